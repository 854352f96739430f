// An `Rc` held across an `.await` makes the handler's future !Send.
use nets_runtime::prelude::*;

use std::rc::Rc;

async fn load() -> i64 {
    1
}

#[request_handler(path = "counter/", public)]
async fn counter() -> ApiResult<i64> {
    let shared = Rc::new(5);
    let loaded = load().await;
    Ok(*shared + loaded)
}

fn main() {}
