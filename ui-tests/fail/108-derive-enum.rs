// `#[derive(NetsModel)]` on an enum.
use nets_runtime::prelude::*;

#[derive(serde::Serialize, NetsModel)]
#[nets(table = "states")]
enum State {
    Draft,
    Sent,
}

fn main() {}
