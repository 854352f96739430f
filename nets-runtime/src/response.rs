//! Successful responses: the `{"res": 1, "data": .., "extra": ..}` envelope.

use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ApiError;

/// What most handlers return: data that becomes `{"res": 1, "data": <T>}`, or an [`ApiError`].
///
/// ```
/// use nets_runtime::prelude::*;
///
/// #[request_handler(path = "ping/", method = GET, public)]
/// async fn ping() -> ApiResult<&'static str> {
///     Ok("pong") // → {"res": 1, "data": "pong"}
/// }
/// ```
pub type ApiResult<T> = Result<T, ApiError>;

/// A success envelope with an `extra` member: `{"res": 1, "data": .., "extra": ..}`.
///
/// A falsy `extra` (`null`, `{}`) is left out, as in the original library.
///
/// ```
/// use nets_runtime::prelude::*;
/// use serde_json::json;
///
/// #[request_handler(path = "login/", method = POST, public)]
/// async fn login(email: Email) -> ApiResult<Success<&'static str>> {
///     Ok(Success::new("CODE SENT").extra(json!({"device_uuid": "…"})))
/// }
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct Success<T> {
    res: u8,
    data: T,
    #[serde(skip_serializing_if = "is_empty_extra")]
    extra: serde_json::Value,
}

fn is_empty_extra(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

impl<T: Serialize> Success<T> {
    /// `{"res": 1, "data": data}`.
    pub fn new(data: T) -> Self {
        Success { res: 1, data, extra: serde_json::Value::Null }
    }

    /// Adds the `extra` member.
    pub fn extra(mut self, extra: serde_json::Value) -> Self {
        self.extra = extra;
        self
    }
}

impl<T: Serialize> IntoResponse for Success<T> {
    fn into_response(self) -> Response {
        axum::Json(self).into_response()
    }
}

/// Borrowing twin of [`Success`] used for `ApiResult<T>` so the data is not moved twice.
#[derive(Serialize)]
struct Envelope<'a, T> {
    res: u8,
    data: &'a T,
}

/// Renders a handler's `Result<T, E>` as the envelope.
pub(crate) fn envelope<T: Serialize, E: Into<ApiError>>(result: Result<T, E>) -> Response {
    match result {
        Ok(data) => axum::Json(Envelope { res: 1, data: &data }).into_response(),
        Err(e) => e.into().into_response(),
    }
}
