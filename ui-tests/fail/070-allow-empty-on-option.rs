// `allow_empty` lets a required parameter be `""`; an `Option` already accepts it.
use nets_runtime::prelude::*;

#[request_handler(path = "notes/", method = POST, public)]
async fn add_note(#[param(allow_empty)] text: Option<String>) -> ApiResult<String> {
    Ok(text.unwrap_or_default())
}

fn main() {}
