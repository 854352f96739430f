// A misspelt field key, and a relation used in `json_fields` that does not exist.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "people")]
struct Person {
    id: i64,
}

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices", json_fields(id, user))]
struct Invoice {
    id: i64,
    #[nets(refrences = Person)]
    user_id: i64,
}

fn main() {}
