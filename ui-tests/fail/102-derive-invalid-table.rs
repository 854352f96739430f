// A table name that is not an SQL identifier: the error points at the string.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices; DROP TABLE users")]
struct Invoice {
    id: i64,
}

fn main() {}
