// `#[derive(NetsModel)]` on a generic struct.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "boxes")]
struct Boxed<T> {
    id: i64,
    value: T,
}

fn main() {}
