//! The one middleware every request to an [`App`](crate::App)'s endpoints passes
//! through (`/openapi.json`, a static answer complete when built, is served outside it):
//!
//! * an `x-request-id` (the client's, or a new one) on the request and its answer;
//! * a panic in a handler answered as a JSON 500, never a dropped connection;
//! * every 500 stamped with its request id, so a client can quote it to the operator,
//!   and logged with the method and path (the cause was logged where it happened);
//! * the security headers ([`SecurityHeaders`]);
//! * a `request` span, at DEBUG (at INFO it would cost ~10 µs per request, measured, for
//!   nothing: nets logs no event on a request that goes well).
//!
//! One service instead of a tower-http layer per concern: axum boxes each layer of
//! `Router::layer` around every route, and each box, span and body wrapper is paid on
//! every request. Here the work is one future, with nothing allocated when the request
//! goes well.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use futures_util::future::CatchUnwind;
use tower::{Layer, Service};

use crate::ApiError;
use crate::app::REQUEST_ID;
use crate::error::{ErrorBody, InternalErrorMarker};
use crate::security_headers::SecurityHeaders;

/// The layer; built once per router.
#[derive(Clone)]
pub(crate) struct NetsLayer(Arc<Shared>);

struct Shared {
    headers: Option<SecurityHeaders>,
}

impl NetsLayer {
    /// `headers`: `None` when the settings' security headers are off (or invalid).
    pub(crate) fn new(headers: Option<SecurityHeaders>) -> NetsLayer {
        NetsLayer(Arc::new(Shared { headers }))
    }
}

impl<S> Layer<S> for NetsLayer {
    type Service = NetsService<S>;

    fn layer(&self, inner: S) -> NetsService<S> {
        NetsService { inner, shared: self.0.clone() }
    }
}

/// See the [module](self).
#[derive(Clone)]
pub(crate) struct NetsService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Service<Request> for NetsService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = NetsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let id = match req.headers().get(REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = crate::request_id::next();
                req.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        let span = tracing::debug_span!(
            "request",
            method = %req.method(),
            // The path only: query strings carry secrets often enough (codes, tokens sent
            // by careless clients) that logs must never hold them.
            path = %req.uri().path(),
            request_id = id.to_str().unwrap_or_default(),
        );
        // Kept only to log a 500: a standard method is a tag, and the path is copied
        // into a fixed buffer (cloning the URI would allocate: hyper's bytes are
        // promoted to shared ones on their first clone).
        let asked = (req.method().clone(), LoggedPath::new(req.uri().path()));
        let inner = {
            let _entered = span.enter();
            std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(req)))
        };
        let state = match inner {
            Ok(future) => State::Running { future: AssertUnwindSafe(future).catch_unwind() },
            Err(panic) => State::Panicked { panic: Some(panic) },
        };
        NetsFuture { state, id: Some(id), asked: Some(asked), span, shared: self.shared.clone() }
    }
}

pin_project_lite::pin_project! {
    /// The answer of [`NetsService`].
    pub(crate) struct NetsFuture<F> {
        #[pin]
        state: State<F>,
        id: Option<HeaderValue>,
        asked: Option<(Method, LoggedPath)>,
        span: tracing::Span,
        shared: Arc<Shared>,
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<F> {
        Running { #[pin] future: CatchUnwind<AssertUnwindSafe<F>> },
        // `call` itself panicked.
        Panicked { panic: Option<Box<dyn Any + Send>> },
    }
}

impl<F, E> Future for NetsFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = {
            let _entered = this.span.enter();
            match this.state.project() {
                StateProj::Running { future } => ready!(future.poll(cx)),
                StateProj::Panicked { panic } => Err(panic.take().unwrap_or_else(|| Box::new(()))),
            }
        };
        let mut response = match outcome {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Poll::Ready(Err(e)),
            Err(_panic) => panic_response(),
        };
        let id = this.id.take();
        if response.extensions().get::<InternalErrorMarker>().is_some() {
            let (method, path) = this.asked.take().unwrap_or_default();
            response = stamp_500(response, id.as_ref(), &method, path.as_str());
        }
        finish(response.headers_mut(), this.shared.headers.as_ref(), id);
        Poll::Ready(Ok(response))
    }
}

/// What every answer carries: the security headers (those the answer does not set
/// itself) and its request id. Static answers get them once, when they are built
/// ([`Precompressed`](crate::precompressed::Precompressed)).
pub(crate) fn finish(headers: &mut HeaderMap, security: Option<&SecurityHeaders>, id: Option<HeaderValue>) {
    if let Some(security) = security {
        security.stamp(headers);
    }
    if let Some(id) = id {
        headers.entry(REQUEST_ID).or_insert(id);
    }
}

fn panic_response() -> Response {
    tracing::error!("handler panicked");
    let mut response =
        ApiError::Status { status: StatusCode::INTERNAL_SERVER_ERROR, message: "internal server error".into() }
            .into_response();
    response.extensions_mut().insert(InternalErrorMarker);
    response
}

/// Writes the request id into a 500's body and logs it with the method and path.
fn stamp_500(response: Response, id: Option<&HeaderValue>, method: &Method, path: &str) -> Response {
    let id = id.and_then(|v| v.to_str().ok());
    tracing::error!(request_id = id.unwrap_or(""), %method, path, "answered 500 internal server error");
    let (mut parts, _) = response.into_parts();
    let body =
        ErrorBody { res: 0, message: "internal server error", data: (), errors: None, code: None, request_id: id };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    Response::from_parts(parts, Body::from(json))
}

/// A request's path for the 500 log, without an allocation: the first
/// [`LoggedPath::CAPACITY`] bytes (longer paths are cut at a character boundary).
struct LoggedPath {
    len: usize,
    bytes: [u8; LoggedPath::CAPACITY],
}

impl Default for LoggedPath {
    fn default() -> LoggedPath {
        LoggedPath::new("")
    }
}

impl LoggedPath {
    const CAPACITY: usize = 128;

    fn new(path: &str) -> LoggedPath {
        let mut len = path.len().min(Self::CAPACITY);
        while !path.is_char_boundary(len) {
            len -= 1;
        }
        let mut bytes = [0; Self::CAPACITY];
        bytes[..len].copy_from_slice(&path.as_bytes()[..len]);
        LoggedPath { len, bytes }
    }

    fn as_str(&self) -> &str {
        // The bytes were a `&str` cut at a character boundary.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::LoggedPath;

    #[test]
    fn logged_paths_are_cut_at_a_character_boundary() {
        assert_eq!(LoggedPath::new("/invoices/7/").as_str(), "/invoices/7/");
        let long = format!("/{}", "é".repeat(100));
        let cut = LoggedPath::new(&long);
        assert!(long.starts_with(cut.as_str()) && cut.as_str().len() >= LoggedPath::CAPACITY - 1);
        assert_eq!(LoggedPath::default().as_str(), "");
    }
}
