// `impl IntoResponse` return types (bare and inside a `Result`) go through axum.
use axum::http::StatusCode;
use axum::response::IntoResponse;
use nets_runtime::prelude::*;

#[request_handler(path = "teapot/", method = GET, public)]
async fn teapot() -> impl IntoResponse {
    (StatusCode::IM_A_TEAPOT, "short and stout")
}

#[request_handler(path = "maybe-teapot/", method = GET, public)]
async fn maybe_teapot(#[param(default = false)] fail: bool) -> Result<impl IntoResponse, ApiError> {
    if fail {
        return Err(ApiError::bad_request("asked to fail"));
    }
    Ok(StatusCode::NO_CONTENT)
}

fn main() {
    assert_eq!(nets_runtime::route_registry().len(), 2);
}
