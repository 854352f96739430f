//! The header-read timeout, kept per connection instead of per request.
//!
//! hyper's own (`http1::Builder::header_read_timeout`) makes a timer for every request:
//! it allocates a boxed sleep when it starts reading a request head, registers it in
//! tokio's timer wheel (a lock) and removes it (the lock again) once the head is read.
//! Here a connection's service records when the connection became idle (no request in
//! flight) with an atomic store, and one watchdog per connection sleeps until that time
//! plus the timeout, rereading it when it wakes: its timer is touched about once per
//! timeout, not once per request.
//!
//! The rule is hyper's: a request's headers must arrive within the timeout, counted from
//! the connection's start and from the end of each response (so it is also the
//! keep-alive idle timeout). An answer ends when hyper has taken its body: at once for a
//! body of known, small size (hyper writes it in one go), when the body is dropped
//! otherwise (a large or streamed download takes as long as the client needs). Once an
//! HTTP/2 request arrives, hyper's pings watch the connection instead.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request};
use axum::http::Version;
use axum::response::Response;
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tower::Service;

/// A body up to this size, with a known length, is written at once: its answer ends with
/// the response itself. (Anything larger is watched until hyper drops the body.)
const WRITTEN_AT_ONCE: u64 = 64 * 1024;

/// One connection's idleness, shared by its service and its watchdog.
#[derive(Debug)]
pub(super) struct Idle {
    /// The connection's start; times below are nanoseconds after it.
    start: Instant,
    /// Requests whose answers are not finished.
    in_flight: AtomicU32,
    /// When `in_flight` last became 0 (or the connection started).
    since: AtomicU64,
    /// An HTTP/2 request came: hyper's keep-alive pings watch the connection.
    http2: AtomicBool,
}

impl Idle {
    pub(super) fn new() -> Arc<Idle> {
        Arc::new(Idle {
            start: Instant::now(),
            in_flight: AtomicU32::new(0),
            since: AtomicU64::new(0),
            http2: AtomicBool::new(false),
        })
    }

    fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    fn end(&self) {
        // Stored before the count drops, so a watchdog that sees no request in flight
        // never reads an older time.
        let now = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.since.store(now, Ordering::Release);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    /// Completes when the connection has waited `timeout` for a request's headers.
    pub(super) async fn expired(&self, timeout: Duration) {
        loop {
            if self.http2.load(Ordering::Relaxed) {
                return std::future::pending().await;
            }
            if self.in_flight.load(Ordering::Acquire) > 0 {
                // Busy: look again later. An answer that ends meanwhile ends after this
                // nap began, so its deadline is after the nap's end: never missed.
                tokio::time::sleep(timeout).await;
                continue;
            }
            let deadline = self.start + Duration::from_nanos(self.since.load(Ordering::Acquire)) + timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// Ends an answer (see [`Idle`]) when dropped.
struct Busy(Arc<Idle>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// A connection's service: the router, with the peer address as [`ConnectInfo`] (as
/// `into_make_service_with_connect_info` gives it) and the connection's [`Idle`] kept.
#[derive(Clone)]
pub(super) struct Watched<S> {
    inner: S,
    peer: SocketAddr,
    idle: Arc<Idle>,
}

impl<S> Watched<S> {
    pub(super) fn new(inner: S, peer: SocketAddr, idle: Arc<Idle>) -> Watched<S> {
        Watched { inner, peer, idle }
    }
}

impl<S, B> Service<Request<B>> for Watched<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = WatchedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        if request.version() == Version::HTTP_2 {
            self.idle.http2.store(true, Ordering::Relaxed);
        }
        self.idle.begin();
        WatchedFuture { inner: self.inner.call(request), busy: Some(Busy(self.idle.clone())) }
    }
}

pin_project_lite::pin_project! {
    /// The answer of [`Watched`].
    pub(super) struct WatchedFuture<F> {
        #[pin]
        inner: F,
        busy: Option<Busy>,
    }
}

impl<F, E> Future for WatchedFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx));
        let busy = this.busy.take();
        Poll::Ready(response.map(|response| {
            let size = response.body().size_hint();
            match (busy, size.exact()) {
                (Some(busy), exact) if exact.is_none_or(|n| n > WRITTEN_AT_ONCE) => {
                    response.map(|body| Body::new(Guarded { body, _busy: busy }))
                }
                // Dropping `busy` ends the answer.
                _ => response,
            }
        }))
    }
}

pin_project_lite::pin_project! {
    /// A response body that ends its answer when hyper drops it.
    struct Guarded {
        #[pin]
        body: Body,
        _busy: Busy,
    }
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
