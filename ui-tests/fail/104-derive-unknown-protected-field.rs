// `protected` names something that is not a field.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices", protected(password))]
struct Invoice {
    id: i64,
    title: String,
}

fn main() {}
