// `references` on a field whose name does not end in `_id`: the relation has no name.
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
    owner: i64,
}

fn main() {}
