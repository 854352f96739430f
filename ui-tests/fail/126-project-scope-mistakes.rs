// A project scope needs a signed-in member, and `project` names a parameter.
use nets_runtime::prelude::*;

#[request_handler(path = "board/", method = GET, public, project_required)]
async fn board() -> ApiResult<&'static str> {
    Ok("board")
}

#[request_handler(path = "wall/", method = GET, project = "project id")]
async fn wall() -> ApiResult<&'static str> {
    Ok("wall")
}

fn main() {}
