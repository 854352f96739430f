// `rest` is never missing (it is empty when no other key was sent): no `Option`.
use nets_runtime::prelude::*;

#[request_handler(path = "profile/", method = POST, public)]
async fn update_profile(
    #[param(rest)] fields: Option<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<usize> {
    Ok(fields.map_or(0, |f| f.len()))
}

fn main() {}
