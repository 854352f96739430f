// A key given twice (across two attributes).
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "invoices")]
#[nets(table = "bills")]
struct Invoice {
    id: i64,
}

fn main() {}
