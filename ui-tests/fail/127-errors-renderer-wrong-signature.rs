// `errors = ..` names a function that renders the pipeline's refusals:
// `fn(ApiError) -> Response`. This one takes a reference.
use nets_runtime::prelude::*;

fn problem(error: &ApiError) -> String {
    error.to_string()
}

#[request_handler(path = "hook/", method = POST, public, errors = problem)]
async fn hook(event: String) -> ApiResult<String> {
    Ok(event)
}

fn main() {}
