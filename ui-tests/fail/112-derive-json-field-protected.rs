// A field both in `json_fields` and `protected`.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "users", json_fields(id, password), protected(password))]
struct User {
    id: i64,
    password: String,
}

fn main() {}
