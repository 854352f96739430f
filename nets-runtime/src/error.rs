//! [`ApiError`]: every way a request can fail, and how each failure looks on the wire.
//!
//! Errors are rendered in the original library's envelope, `{"res": 0, "message": "..", "data": null}`,
//! so existing clients keep working. Parameter errors add an `errors` map naming each
//! offending field. Internal errors never leak their cause to the client: they are logged
//! with `tracing` and answered with a request id the operator can search for.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Field name → human-readable problems with that field.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The error type of nets handlers. `?` works on it in any handler returning
/// [`ApiResult`](crate::ApiResult).
///
/// ```
/// use nets_runtime::{ApiError, ApiResult};
///
/// fn find(id: i64) -> ApiResult<&'static str> {
///     if id == 1 { Ok("one") } else { Err(ApiError::NotFound) }
/// }
/// assert_eq!(find(2).unwrap_err().status().as_u16(), 404);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400 with a message and, for parameter problems, the fields at fault.
    #[error("{message}")]
    BadRequest {
        /// The envelope's `message`.
        message: String,
        /// Per-field problems (`errors` in the envelope), empty when not about fields.
        errors: FieldErrors,
    },
    /// 401 `authentication required`, with a `WWW-Authenticate: Bearer` challenge
    /// (RFC 6750). The original answered 403 here; nets follows the RFC.
    #[error("authentication required")]
    Unauthorized {
        /// Extra challenge parameters such as `error="invalid_token"`.
        challenge: Option<String>,
    },
    /// 403 `permission denied`.
    #[error("permission denied")]
    Forbidden,
    /// 404 `not found`.
    #[error("not found")]
    NotFound,
    /// 405 `method not allowed` with the `Allow` header.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// Value of the `Allow` header, e.g. `GET, POST`.
        allow: String,
    },
    /// 413: the body is larger than `NETS_CORE_MAX_BODY_SIZE`.
    #[error("request body too large (limit is {limit} bytes)")]
    PayloadTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// 415: a body in a format nets does not read.
    #[error(
        "unsupported content type '{0}': send application/json, application/x-www-form-urlencoded or multipart/form-data"
    )]
    UnsupportedMediaType(String),
    /// 429 `too many requests` with `Retry-After` (seconds), e.g. from a rate limit
    /// (`cache::RateLimit`).
    #[error("too many requests: retry in {retry_after} seconds")]
    TooManyRequests {
        /// Seconds until the limit resets (the `Retry-After` header).
        retry_after: u64,
    },
    /// Any other status with a message of your choosing.
    #[error("{message}")]
    Status {
        /// The HTTP status (4xx or 5xx).
        status: StatusCode,
        /// The envelope's `message`.
        message: String,
    },
    /// A refusal with a stable, machine-readable `code` next to the message:
    /// `{"res": 0, "message": .., "data": null, "code": ".."}`, for clients that act on
    /// the reason (the social logins' `email_not_verified`, `provider_unavailable`, ...).
    #[error("{message}")]
    Coded {
        /// The HTTP status (4xx or 5xx).
        status: StatusCode,
        /// The envelope's `code`: lower-case words joined by `_`, stable across versions.
        code: &'static str,
        /// The envelope's `message`, in English.
        message: String,
    },
    /// 500. The source is logged, never sent to the client.
    #[error("internal server error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    /// A 400 with just a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest { message: message.into(), errors: FieldErrors::new() }
    }

    /// A 400 about one field: `message` in the envelope and `errors: {field: [problem]}`.
    pub fn field(field: impl Into<String>, problem: impl Into<String>) -> Self {
        let (field, problem) = (field.into(), problem.into());
        let message = format!("invalid value for parameter '{field}': {problem}");
        let mut errors = FieldErrors::new();
        errors.insert(field, vec![problem]);
        ApiError::BadRequest { message, errors }
    }

    /// Any status with a message.
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::Status { status, message: message.into() }
    }

    /// Wraps an unexpected error: logged server-side, answered as a 500.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(source.into())
    }

    /// A refusal with `status`, a stable `code` and a message (see [`ApiError::Coded`]).
    ///
    /// ```
    /// use nets_runtime::ApiError;
    /// use http::StatusCode;
    ///
    /// let e = ApiError::coded(StatusCode::BAD_REQUEST, "email_not_verified", "verify your e-mail first");
    /// assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    /// ```
    pub fn coded(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Coded { status, code, message: message.into() }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Status { status, .. } | ApiError::Coded { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        ApiError::internal(e)
    }
}

/// Wire shape of every error: `{"res": 0, "message": "..", "data": null, "errors": {..}}`.
/// `data` is always there, `null`, as in the original's in-view errors: typed clients
/// (kotlinx.serialization, `json_serializable`) that declare it fail on a missing key.
#[derive(Serialize)]
pub(crate) struct ErrorBody<'a> {
    pub res: u8,
    pub message: &'a str,
    pub data: (),
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<&'a FieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
}

/// Marks a response as an internal error so the request-id middleware can stamp it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InternalErrorMarker;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(source) = &self {
            tracing::error!(error = %source, debug = ?source, "internal error while handling request");
        }
        let message = self.to_string();
        let errors = match &self {
            ApiError::BadRequest { errors, .. } if !errors.is_empty() => Some(errors),
            _ => None,
        };
        let code = match &self {
            ApiError::Coded { code, .. } => Some(*code),
            _ => None,
        };
        let body = ErrorBody { res: 0, message: &message, data: (), errors, code, request_id: None };
        // Strings, numbers and string maps: writing them cannot fail.
        let mut response = crate::response::json(status, &body).unwrap_or_else(|_| status.into_response());
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized { challenge } => {
                let value = match challenge {
                    Some(extra) => format!("Bearer {extra}"),
                    None => "Bearer".to_owned(),
                };
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            ApiError::MethodNotAllowed { allow } => {
                if let Ok(value) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, value);
                }
            }
            ApiError::TooManyRequests { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            ApiError::Internal(_) => {
                response.extensions_mut().insert(InternalErrorMarker);
            }
            _ => {}
        }
        response
    }
}
