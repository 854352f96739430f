// #[param(..)] on the context, which is not a request parameter.
use nets_runtime::prelude::*;

#[request_handler(path = "me/")]
async fn me(#[param(rename = "context")] ctx: Ctx) -> ApiResult<i64> {
    Ok(ctx.require_user()?.id)
}

fn main() {}
