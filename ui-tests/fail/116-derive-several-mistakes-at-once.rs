// Several mistakes: each is reported in one build.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "2invoices", json_fields(id, nope), protected(secret), owner = "who", index = "key")]
struct Invoice {
    id: i64,
    user_id: i64,
}

fn main() {}
