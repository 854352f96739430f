// `owner` names something that is not a field: the error points at the string.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices", owner = "owner_id")]
struct Invoice {
    id: i64,
    user_id: i64,
}

fn main() {}
