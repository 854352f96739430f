// A destructuring pattern: parameters are named after their arguments.
use nets_runtime::prelude::*;

#[request_handler(path = "points/", public)]
async fn add_point((x, y): (i64, i64)) -> ApiResult<i64> {
    Ok(x + y)
}

fn main() {}
