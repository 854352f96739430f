// A foreign key column must hold an index value (integer, string or UUID).
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "people")]
struct Person {
    id: i64,
}

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices")]
struct Invoice {
    id: i64,
    #[nets(references = Person)]
    user_id: f64,
}

fn main() {}
