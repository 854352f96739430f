// The relation `user` of `user_id` would hide the field `user`.
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
    user: String,
    #[nets(references = Person)]
    user_id: i64,
}

fn main() {}
