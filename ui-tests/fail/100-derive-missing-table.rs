// `#[derive(NetsModel)]` without `table`: the error points at the attribute.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(owner = "user_id")]
struct Invoice {
    id: i64,
    user_id: i64,
}

fn main() {}
