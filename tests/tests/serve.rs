//! Slow and silent clients (issue 11, item 12): `serve_with` disconnects a client whose
//! headers, body or next request do not come, limits open connections, and keeps serving
//! everyone else. `axum::serve` kept all of these connections open past 130 s.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nets_runtime::{App, ServeOptions, build_urlpatterns};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod api {
    use nets_runtime::prelude::*;

    #[request_handler(path = "ping/", methods = [GET, POST], public)]
    async fn ping(note: Option<String>) -> ApiResult<Option<String>> {
        Ok(note)
    }
}

/// Header and body timeouts of one second; `max_connections` as given.
async fn start(max_connections: usize) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = App::builder(nets_tests::settings(""));
    let router = app.routes(build_urlpatterns!(self::api).expect("routes")).build().expect("app").router();
    let options = ServeOptions {
        header_read_timeout: Duration::from_secs(1),
        body_read_timeout: Duration::from_secs(1),
        max_connections,
        loopback_only: false,
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(nets_runtime::serve_with(listener, router, options, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Everything the server sends until it closes the connection, or `None` when it is
/// still open after `limit` (far above the 1 s timeouts, so a loaded machine passes).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| String::from_utf8_lossy(&received).into_owned())
}

const LIMIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn silent_and_half_sent_headers_are_disconnected() {
    let (addr, _stop) = start(100).await;
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial.write_all(b"GET /ping/ HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    assert!(read_until_closed(&mut silent, LIMIT).await.is_some(), "a silent connection stayed open");
    let answer = read_until_closed(&mut partial, LIMIT).await;
    let answer = answer.expect("a connection with unfinished headers stayed open");
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_its_response() {
    let (addr, _stop) = start(100).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /ping/?note=hi HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let answer = read_until_closed(&mut stream, LIMIT).await.expect("the idle connection stayed open");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#"{"res":1,"data":"hi"}"#), "{answer}");
}

#[tokio::test]
async fn a_stalled_body_is_answered_and_closed() {
    let (addr, _stop) = start(100).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = "POST /ping/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(br#"{"note": "#).await.unwrap();
    let answer = read_until_closed(&mut stream, LIMIT).await.expect("a stalled body kept the connection open");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "{answer}");
}

#[tokio::test]
async fn stalled_connections_do_not_starve_other_clients() {
    // Two connection slots, both taken by silent clients: a real client waits in the
    // backlog until the timeouts free them, then is served.
    let (addr, _stop) = start(2).await;
    let mut stalled = Vec::new();
    for _ in 0..2 {
        stalled.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    nets_runtime::install_crypto_provider();
    let reply = reqwest::Client::new().get(format!("http://{addr}/ping/?note=late")).timeout(LIMIT).send().await;
    let reply = reply.expect("served once the stalled connections timed out");
    assert_eq!(reply.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(500), "the limit of 2 connections was not applied");

    // Many stalled connections under a larger limit: others are served at once.
    let (addr, _stop) = start(1000).await;
    let mut stalled = Vec::new();
    for _ in 0..200 {
        stalled.push(TcpStream::connect(addr).await.unwrap());
    }
    nets_runtime::install_crypto_provider();
    let reply = reqwest::Client::new().get(format!("http://{addr}/ping/?note=ok")).timeout(LIMIT).send().await;
    assert_eq!(reply.expect("served").status(), 200);
}

#[tokio::test]
async fn shutdown_stops_accepting() {
    let (addr, stop) = start(100).await;
    nets_runtime::install_crypto_provider();
    let reply = reqwest::get(format!("http://{addr}/ping/")).await.expect("served");
    assert_eq!(reply.status(), 200);
    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
}

#[tokio::test]
async fn the_fixed_debug_code_is_served_on_loopback_only() {
    let settings = nets_tests::settings("DEBUG = true");
    let options = ServeOptions::from_settings(&settings);
    assert!(options.loopback_only);
    let router =
        App::builder(settings).routes(build_urlpatterns!(self::api).expect("routes")).build().expect("app").router();
    let public = TcpListener::bind("0.0.0.0:0").await.unwrap();
    let err = nets_runtime::serve_with(public, router.clone(), options, std::future::ready(())).await.unwrap_err();
    assert!(err.to_string().contains("fixed verification code"), "{err}");
    let loopback = TcpListener::bind("127.0.0.1:0").await.unwrap();
    nets_runtime::serve_with(loopback, router, options, std::future::ready(())).await.unwrap();
    // With codes sent by e-mail there is no fixed code to protect.
    assert!(
        !ServeOptions::from_settings(&nets_tests::settings("DEBUG = true\nNETS_CORE_EMAIL_DEBUG_ENABLED = true"))
            .loopback_only
    );
}

#[tokio::test]
async fn drain_waits_for_background_work_requests_started() {
    let app = App::builder(nets_runtime::Settings::default()).build().expect("app");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    app.spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    assert!(app.drain(Duration::from_secs(5)).await, "finished within the timeout");
    assert!(done.load(std::sync::atomic::Ordering::SeqCst), "drain returned before the task ended");
    // A task that outlives the timeout is reported, not waited for forever.
    app.spawn(tokio::time::sleep(Duration::from_secs(60)));
    let started = Instant::now();
    assert!(!app.drain(Duration::from_millis(100)).await);
    assert!(started.elapsed() < Duration::from_secs(5));
}
