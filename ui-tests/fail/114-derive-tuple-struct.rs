// `#[derive(NetsModel)]` on a tuple struct.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "pairs")]
struct Pair(i64, i64);

fn main() {}
