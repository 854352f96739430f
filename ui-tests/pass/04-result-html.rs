// `Result<Html<String>, ApiError>`: a response type inside a `Result` is not wrapped in
// the JSON envelope.
use axum::response::Html;
use nets_runtime::prelude::*;

#[request_handler(path = "hello/{name}/", method = GET, public)]
async fn hello(name: String) -> Result<Html<String>, ApiError> {
    if name.contains('<') {
        return Err(ApiError::bad_request("no markup in names"));
    }
    Ok(Html(format!("<p>Hello, {name}!</p>")))
}

fn main() {
    assert_eq!(nets_runtime::route_registry()[0].path, "/hello/{name}/");
}
