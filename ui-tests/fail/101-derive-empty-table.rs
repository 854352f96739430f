// An empty `table` name.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "")]
struct Invoice {
    id: i64,
}

fn main() {}
