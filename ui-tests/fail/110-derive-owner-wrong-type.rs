// `owner` names a field that is not a user id: the error points at its type.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices", owner = "user")]
struct Invoice {
    id: i64,
    user: String,
}

fn main() {}
