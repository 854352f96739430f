// `index` names something that is not a field.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices", index = "uuid")]
struct Invoice {
    id: i64,
}

fn main() {}
