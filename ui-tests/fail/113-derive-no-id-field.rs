// No `index` and no `id` field: the error points at the struct name.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "settings")]
struct Setting {
    key: String,
    value: String,
}

fn main() {}
