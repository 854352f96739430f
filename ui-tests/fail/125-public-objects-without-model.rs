// `public_objects` is about the objects of `model = ..`.
use nets_runtime::prelude::*;

#[request_handler(path = "notes/", method = GET, public, public_objects)]
async fn notes() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
