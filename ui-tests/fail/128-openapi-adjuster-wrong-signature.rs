// `openapi = ..` names a function that adjusts the generated operation:
// `fn(&mut Operation, &mut Components)`. This one returns a new operation instead.
use nets_runtime::prelude::*;

fn webhook_operation() -> serde_json::Value {
    serde_json::json!({})
}

#[request_handler(path = "hook/", method = POST, public, openapi = webhook_operation)]
async fn hook(event: String) -> ApiResult<String> {
    Ok(event)
}

fn main() {}
