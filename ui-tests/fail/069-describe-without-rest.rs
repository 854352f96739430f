// `describe` documents the keys of a `rest` parameter; on another parameter it means nothing.
use nets_runtime::prelude::*;

fn profile_fields(_: &App) -> Option<serde_json::Value> {
    None
}

#[request_handler(path = "profile/", method = POST, public)]
async fn update_profile(#[param(describe = profile_fields)] name: String) -> ApiResult<String> {
    Ok(name)
}

fn main() {}
