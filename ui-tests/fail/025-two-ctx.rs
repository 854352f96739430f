// The context taken twice.
use nets_runtime::prelude::*;

#[request_handler(path = "me/")]
async fn me(ctx: Ctx, again: Ctx) -> ApiResult<i64> {
    let _ = again;
    Ok(ctx.require_user()?.id)
}

fn main() {}
