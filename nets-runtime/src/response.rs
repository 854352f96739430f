//! Successful responses: the `{"res": 1, "data": .., "extra": ..}` envelope.

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, BytesMut};
use serde::Serialize;

use crate::ApiError;

/// Room for the headers an answer gets on its way out besides its own (security
/// headers, `Vary`, request id, `Content-Length`, CORS): a header map that has to grow
/// reallocates and rehashes, on every request.
pub(crate) const HEADER_ROOM: usize = 12;

/// `body` as a JSON answer with `status`, its header map sized for the way out.
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Result<Response, serde_json::Error> {
    // As serde_json::to_vec starts.
    let mut buf = BytesMut::with_capacity(128).writer();
    serde_json::to_writer(&mut buf, body)?;
    let mut response = Response::new(Body::from(buf.into_inner().freeze()));
    *response.status_mut() = status;
    let mut headers = HeaderMap::with_capacity(HEADER_ROOM);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    *response.headers_mut() = headers;
    Ok(response)
}

/// `data` that cannot be written as JSON (a map with non-string keys, a failing
/// `Serialize`): a 500 that says so, logged, never a half-written body.
fn unserializable(e: serde_json::Error) -> Response {
    ApiError::internal(format!("the answer could not be written as JSON: {e}")).into_response()
}

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
        json(StatusCode::OK, &self).unwrap_or_else(unserializable)
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
        Ok(data) => json(StatusCode::OK, &Envelope { res: 1, data: &data }).unwrap_or_else(unserializable),
        Err(e) => e.into().into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::error::InternalErrorMarker;

    #[test]
    fn answers_have_room_for_the_headers_added_on_the_way_out() {
        let answer = envelope(Ok::<_, ApiError>("pong"));
        assert_eq!(answer.status(), StatusCode::OK);
        assert!(answer.headers().capacity() >= HEADER_ROOM, "{}", answer.headers().capacity());
        assert_eq!(answer.headers().get(header::CONTENT_TYPE), Some(&HeaderValue::from_static("application/json")));
    }

    #[test]
    fn data_that_cannot_be_json_is_a_marked_json_500() {
        // JSON object keys must be strings.
        let data: HashMap<(u8, u8), u8> = HashMap::from([((1, 2), 3)]);
        let answer = envelope(Ok::<_, ApiError>(data));
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(answer.headers().get(header::CONTENT_TYPE), Some(&HeaderValue::from_static("application/json")));
        // The middleware stamps marked answers with their request id.
        assert!(answer.extensions().get::<InternalErrorMarker>().is_some());
    }
}
