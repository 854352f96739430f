// `json_fields` names something that is not a field: the error points at the name.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices", json_fields(id, titel))]
struct Invoice {
    id: i64,
    title: String,
}

fn main() {}
