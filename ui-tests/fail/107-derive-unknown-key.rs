// An unknown key in `#[nets(..)]`: the error points at the key.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices", json_data_fields(id))]
struct Invoice {
    id: i64,
}

fn main() {}
