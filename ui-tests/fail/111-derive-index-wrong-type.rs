// `index` names a field whose type does not parse from text: the error points at its type.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices", index = "tags")]
struct Invoice {
    id: i64,
    tags: Vec<String>,
}

fn main() {}
