//! Serving a router over HTTP/1.1 (and HTTP/2, cleartext, with the `http2` feature:
//! behind a proxy that speaks it upstream), with the limits `axum::serve` lacks.
//!
//! `axum::serve` has no timeouts: a client that sends half its headers, half its body, or
//! nothing at all keeps its connection (and a file descriptor) forever, and a few hundred
//! of them starve everyone else (`accept error: Too many open files`). nets' accept loop:
//!
//! * closes a connection whose request headers do not arrive within
//!   [`ServeOptions::header_read_timeout`], counted from the connection's start and from
//!   the end of each response, so it is also the keep-alive idle timeout (HTTP/1; HTTP/2
//!   connections are pinged and closed when the peer stops answering);
//! * answers a body that stalls for [`ServeOptions::body_read_timeout`] with a 4xx;
//! * serves at most [`ServeOptions::max_connections`] connections at once, upgraded ones
//!   (WebSockets) until they close; further clients wait in the listen backlog instead of
//!   exhausting file descriptors;
//! * keeps accepting when `accept` fails (file-descriptor pressure), after a short pause;
//! * on Ctrl-C (or the future given to [`serve_with`]) stops accepting and lets requests in
//!   flight finish.
//!
//! Handlers see the peer address ([`Ctx::client_ip`](crate::Ctx::client_ip)) as with
//! `into_make_service_with_connect_info`.

mod held;
mod idle;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
#[cfg(feature = "http2")]
use hyper_util::rt::TokioExecutor;
use hyper_util::rt::TokioIo;
#[cfg(feature = "http2")]
use hyper_util::rt::TokioTimer;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Layer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::Settings;

/// Timeouts and limits of [`serve_with`]; the defaults are those of [`Settings`].
///
/// ```
/// use std::time::Duration;
/// use nets_runtime::{ServeOptions, Settings};
///
/// let options = ServeOptions::from_settings(&Settings::default());
/// assert_eq!(options.header_read_timeout, Duration::from_secs(10));
/// assert_eq!(options.max_connections, 10_000);
/// assert!(!options.loopback_only);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// Longest wait for a request's headers (`NETS_CORE_HEADER_READ_TIMEOUT_SECONDS`).
    pub header_read_timeout: Duration,
    /// Longest wait for the next piece of a request body (`NETS_CORE_BODY_READ_TIMEOUT_SECONDS`).
    pub body_read_timeout: Duration,
    /// Most connections open at once, upgraded ones (WebSockets) included until they
    /// close (`NETS_CORE_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// Refuse to listen on a non-loopback address: set when the fixed DEBUG verification
    /// code is live ([`Settings::fixed_debug_code_live`]), which lets anyone log in as anyone.
    pub loopback_only: bool,
}

impl ServeOptions {
    /// The options the settings give.
    pub fn from_settings(settings: &Settings) -> ServeOptions {
        ServeOptions {
            header_read_timeout: Duration::from_secs(settings.header_read_timeout_seconds.max(1)),
            body_read_timeout: Duration::from_secs(settings.body_read_timeout_seconds.max(1)),
            max_connections: settings.max_connections.max(1),
            loopback_only: settings.fixed_debug_code_live(),
        }
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions::from_settings(&Settings::default())
    }
}

/// Serves a router on `addr` with the default [`ServeOptions`] until Ctrl-C or SIGTERM.
/// For an [`App`](crate::App), [`App::serve`](crate::App::serve) also takes its
/// settings' options and shuts the app down cleanly afterwards.
pub async fn serve(router: Router, addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    serve_on(listener, router).await
}

/// Like [`serve`], on a listener you bound (for example to port 0 in tests).
pub async fn serve_on(listener: TcpListener, router: Router) -> std::io::Result<()> {
    serve_with(listener, router, ServeOptions::default(), crate::shutdown_signal()).await
}

/// Serves `router` on `listener` with `options` until `shutdown` completes, then waits
/// for the connections in flight to finish their requests.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if options.loopback_only {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "refusing to listen on {addr}: DEBUG is on, so the fixed verification code logs anyone in as \
                     anyone; listen on 127.0.0.1, or turn DEBUG off (or NETS_CORE_EMAIL_DEBUG_ENABLED on)"
                ),
            ));
        }
        tracing::warn!(
            "DEBUG: the fixed verification code (NETS_CORE_DEBUG_VERIFICATION_CODE) logs anyone in as anyone; \
             never expose this server"
        );
    }
    tracing::info!(%addr, "nets listening");
    // Around the router, not in it: `Router::layer` would wrap every route (a box per
    // request).
    let body_timeout = RequestBodyTimeoutLayer::new(options.body_read_timeout);
    let builder = protocols(&options);
    let permits = Arc::new(Semaphore::new(options.max_connections));
    // Shutdown: `stopping` asks every connection to finish its request in flight and
    // close; `connections` waits for them.
    let (stopping, connections) = (CancellationToken::new(), TaskTracker::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // the semaphore is never closed
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was
                    // accepted: pause briefly and keep serving (timeouts free descriptors).
                    tracing::warn!(error = %e, "accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let idle = idle::Idle::new();
        let service = idle::Watched::new(body_timeout.layer(router.clone()), peer, idle.clone());
        let (builder, stopping) = (builder.clone(), stopping.clone());
        let header_timeout = options.header_read_timeout;
        connections.spawn(async move {
            // The stream holds the connection's place: an upgrade takes both along.
            let io = TokioIo::new(held::Held::new(stream, permit));
            let service = TowerToHyperService::new(service);
            #[cfg(feature = "http2")]
            let connection = builder.serve_connection_with_upgrades(io, service);
            #[cfg(not(feature = "http2"))]
            let connection = builder.serve_connection(io, service).with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = stopping.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
                // No request headers in time: dropping the connection closes it.
                () = idle.expired(header_timeout) => Ok(()),
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, %peer, "connection closed with an error");
            }
        });
    }
    drop(listener);
    stopping.cancel();
    connections.close();
    connections.wait().await;
    Ok(())
}

/// HTTP/1.1 (its header-read timeout is [`idle`]'s, not hyper's); with the `http2`
/// feature, HTTP/2 as well, told apart by the connection's first bytes and watched by
/// pings.
#[cfg(feature = "http2")]
fn protocols(options: &ServeOptions) -> hyper_util::server::conn::auto::Builder<TokioExecutor> {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().header_read_timeout(None);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(options.header_read_timeout))
        .keep_alive_timeout(options.header_read_timeout);
    builder
}

/// HTTP/1.1 (its header-read timeout is [`idle`]'s, not hyper's).
#[cfg(not(feature = "http2"))]
fn protocols(_: &ServeOptions) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.header_read_timeout(None);
    builder
}

/// The accept loop in this build's protocols: `cargo test` runs these with HTTP/2
/// (`full`), CI's lean step with HTTP/1.1 alone. (tests/tests/serve.rs covers the
/// timeouts and limits end to end.)
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::extract::Request;
    use axum::http::{StatusCode, header};
    use axum::response::Response;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    /// A server on a free port; dropping the sender shuts it down. The route `/slow/`
    /// answers after 300 ms; `/stream/` sends three chunks 250 ms apart; `/echo/`
    /// upgrades the connection and echoes what it gets.
    async fn start(
        header_read_timeout: Duration,
    ) -> (SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        start_limited(header_read_timeout, ServeOptions::default().max_connections).await
    }

    /// [`start`], serving at most `max_connections` at once.
    async fn start_limited(
        header_read_timeout: Duration,
        max_connections: usize,
    ) -> (SocketAddr, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        let router = Router::new()
            .route(
                "/slow/",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "done"
                }),
            )
            .route(
                "/stream/",
                get(|| async {
                    let chunks = futures_util::stream::unfold(0, |n| async move {
                        tokio::time::sleep(Duration::from_millis(250)).await;
                        (n < 3).then(|| (Ok::<_, std::io::Error>(format!("chunk{n};")), n + 1))
                    });
                    Body::from_stream(chunks)
                }),
            )
            .route(
                "/echo/",
                get(|mut request: Request| async move {
                    let upgrade = hyper::upgrade::on(&mut request);
                    tokio::spawn(async move {
                        let Ok(upgraded) = upgrade.await else { return };
                        let mut io = TokioIo::new(upgraded);
                        let mut buf = [0u8; 4];
                        if io.read_exact(&mut buf).await.is_ok() {
                            let _ = io.write_all(&buf).await;
                        }
                    });
                    Response::builder()
                        .status(StatusCode::SWITCHING_PROTOCOLS)
                        .header(header::CONNECTION, "upgrade")
                        .header(header::UPGRADE, "echo")
                        .body(Body::empty())
                        .unwrap()
                }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let options = ServeOptions { header_read_timeout, max_connections, ..ServeOptions::default() };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            serve_with(listener, router, options, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        (addr, stop, server)
    }

    async fn read_all(stream: &mut TcpStream) -> String {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(3), stream.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Reads until `end` has come, or panics after 3 s.
    async fn read_until(stream: &mut TcpStream, end: &str) -> String {
        let mut out = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(3), async {
            while !String::from_utf8_lossy(&out).contains(end) {
                let mut buf = [0u8; 1024];
                match stream.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => out.extend_from_slice(&buf[..n]),
                }
            }
        });
        read.await.unwrap();
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn the_header_timeout_spares_slow_answers_and_restarts_after_each() {
        let (addr, _stop, _server) = start(Duration::from_millis(200)).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        // A handler slower than the timeout, then a body streamed for longer than it.
        client.write_all(b"GET /slow/ HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        assert!(read_until(&mut client, "done").await.starts_with("HTTP/1.1 200"));
        client.write_all(b"GET /stream/ HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let streamed = read_until(&mut client, "0\r\n\r\n").await;
        assert!(streamed.contains("chunk0;") && streamed.contains("chunk2;"), "{streamed}");
        // Then silence: closed about the timeout after the answer's end.
        let ended = std::time::Instant::now();
        assert_eq!(read_all(&mut client).await, "");
        let waited = ended.elapsed();
        assert!(waited >= Duration::from_millis(150) && waited < Duration::from_secs(2), "closed after {waited:?}");
    }

    #[tokio::test]
    async fn headers_trickled_in_are_cut_off_at_the_timeout() {
        let (addr, _stop, _server) = start(Duration::from_millis(300)).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let started = std::time::Instant::now();
        for byte in b"GET /slow/ HTTP/1.1\r\nHost: x\r\nX-Slow: 0123456789\r\n\r\n" {
            if client.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let answer = read_all(&mut client).await;
        assert!(!answer.contains("200"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(2), "closed after {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn shutdown_lets_the_request_in_flight_finish() {
        let (addr, stop, server) = start(Duration::from_secs(5)).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"GET /slow/ HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(stop);
        let answer = read_all(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"), "{answer}");
        tokio::time::timeout(Duration::from_secs(3), server).await.expect("serve_with returned").unwrap();
        assert!(TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
    }

    #[tokio::test]
    async fn a_silent_client_is_disconnected_after_the_header_timeout() {
        let (addr, _stop, _server) = start(Duration::from_millis(300)).await;
        let mut client = TcpStream::connect(addr).await.unwrap();
        let started = std::time::Instant::now();
        let answer = read_all(&mut client).await;
        assert!(started.elapsed() < Duration::from_secs(2), "closed after {:?}: {answer}", started.elapsed());
    }

    /// HTTP/2 (prior knowledge): an idle connection between requests is kept by
    /// hyper's pings, not closed by the header timeout that watches HTTP/1.
    #[cfg(feature = "http2")]
    #[tokio::test]
    async fn http2_connections_outlive_the_header_timeout_between_requests() {
        use http_body_util::{BodyExt, Empty};
        let (addr, _stop, _server) = start(Duration::from_millis(200)).await;
        let io = TokioIo::new(TcpStream::connect(addr).await.unwrap());
        let (mut send, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await.expect("an HTTP/2 handshake");
        tokio::spawn(connection);
        for pause in [Duration::ZERO, Duration::from_millis(700)] {
            tokio::time::sleep(pause).await;
            let request = axum::http::Request::get(format!("http://{addr}/slow/")).body(Empty::<bytes::Bytes>::new());
            let answer = send.send_request(request.unwrap()).await.expect("answered on the same connection");
            assert_eq!(answer.version(), axum::http::Version::HTTP_2);
            let body = answer.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&body[..], b"done");
        }
    }

    /// Upgrades a new connection to `/echo/`.
    async fn upgraded(addr: SocketAddr) -> TcpStream {
        let mut client = TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET /echo/ HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n")
            .await
            .unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            assert_eq!(client.read(&mut byte).await.unwrap(), 1, "closed before the 101's end");
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
        client
    }

    /// Sends `ping` on an upgraded connection and reads the echo.
    async fn echo(client: &mut TcpStream) {
        client.write_all(b"ping").await.unwrap();
        let mut echoed = [0u8; 4];
        tokio::time::timeout(Duration::from_secs(3), client.read_exact(&mut echoed)).await.unwrap().unwrap();
        assert_eq!(&echoed, b"ping");
    }

    #[tokio::test]
    async fn connections_upgrade() {
        let (addr, _stop, _server) = start(Duration::from_secs(5)).await;
        echo(&mut upgraded(addr).await).await;
    }

    /// An upgraded connection keeps its place among `max_connections` until its handler
    /// drops the stream: with one place, the next client waits for the socket to close.
    #[tokio::test]
    async fn an_upgraded_connection_keeps_its_place_until_it_closes() {
        let (addr, _stop, _server) = start_limited(Duration::from_secs(5), 1).await;
        let mut socket = upgraded(addr).await;
        // Accepted by the kernel into the backlog; nets takes it once a place is free.
        let mut next = TcpStream::connect(addr).await.unwrap();
        next.write_all(b"GET /slow/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut byte = [0u8; 1];
        let early = tokio::time::timeout(Duration::from_millis(800), next.read(&mut byte)).await;
        assert!(early.is_err(), "served while the upgraded connection was open: {early:?}");
        // The echo handler ends after one echo, and drops its stream.
        echo(&mut socket).await;
        let answer = read_all(&mut next).await;
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("done"), "{answer}");
    }
}
