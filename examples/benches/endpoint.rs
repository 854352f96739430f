//! Throughput of a `#[request_handler]` endpoint against a hand-written axum handler
//! doing the same work (parse three query parameters, answer the JSON envelope), in the
//! same process, behind the same middleware.
//!
//! `cargo bench -p nets-examples --bench endpoint` (add `-- --http` to go through TCP
//! with concurrent keep-alive clients instead of calling the router in-process).
//!
//! Each round measures both endpoints back to back (in alternating order), so noise from
//! a shared machine hits both alike; the report gives the median throughput of each and
//! the median of the per-round ratios. Target: ≥ 0.95.
//!
//! `NETS_BENCH_ONLY=generated` (or `hand`) with `NETS_BENCH_REQUESTS=N` runs exactly N
//! requests of one side and exits, for instruction counts under
//! `valgrind --tool=callgrind`, which unlike wall time do not depend on the machine's load.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Query;
use axum::http::Request;
use axum::routing::get;
use nets_runtime::prelude::*;
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

const ROUNDS: usize = 21;
const ROUND_TIME: Duration = Duration::from_millis(250);
const HTTP_CONNECTIONS: usize = 16;
const QUERY: &str = "?a=42&b=hello%20world&c=true";

/// What both endpoints answer inside `{"res": 1, "data": ..}`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Echo {
    pub a: i64,
    pub b: String,
    pub c: bool,
}

/// Generated: parameters, coercion, validation, envelope by nets.
#[request_handler(path = "bench/generated/", method = GET, public)]
pub async fn bench_generated(a: i64, b: String, c: bool) -> ApiResult<Echo> {
    Ok(Echo { a, b, c })
}

#[derive(Serialize)]
struct Envelope<T> {
    res: u8,
    data: T,
}

/// Hand-written: axum's `Query` extractor into a struct, JSON envelope by hand.
async fn bench_hand_written(Query(q): Query<Echo>) -> axum::Json<Envelope<Echo>> {
    axum::Json(Envelope { res: 1, data: q })
}

/// Both endpoints in one router, behind the same nets middleware stack.
pub fn router() -> Result<axum::Router, nets_runtime::routing::RoutingError> {
    let routes = build_urlpatterns!(self)?.route("/bench/hand/", get(bench_hand_written));
    Ok(App::builder(Settings::default()).build().router(routes))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Requests per second calling the router directly.
async fn in_process(router: &axum::Router, path: &str) -> f64 {
    let uri = format!("{path}{QUERY}");
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < ROUND_TIME {
        for _ in 0..256 {
            let req = Request::get(&uri).body(Body::empty()).expect("request");
            let res = router.clone().oneshot(req).await.expect("infallible");
            assert!(res.status().is_success());
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
            std::hint::black_box(body);
            count += 1;
        }
    }
    count as f64 / start.elapsed().as_secs_f64()
}

/// Requests per second over loopback TCP with concurrent keep-alive clients.
async fn over_http(base: &str, path: &str) -> f64 {
    let url = format!("{base}{path}{QUERY}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    let tasks: Vec<_> = (0..HTTP_CONNECTIONS)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while start.elapsed() < ROUND_TIME {
                    let res = client.get(&url).send().await.expect("send");
                    assert!(res.status().is_success());
                    std::hint::black_box(res.bytes().await.expect("body"));
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

async fn measure(router: &axum::Router, base: Option<&str>, path: &str) -> f64 {
    match base {
        Some(base) => over_http(base, path).await,
        None => in_process(router, path).await,
    }
}

fn main() {
    let http = std::env::args().any(|a| a == "--http");
    // In-process mode measures on one thread: less scheduling noise, same work.
    let runtime = if http {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    };
    runtime.expect("tokio runtime").block_on(run(http));
}

async fn run(http: bool) {
    let router = router().expect("routes");

    // Same answer from both, or the comparison means nothing.
    for path in ["/bench/generated/", "/bench/hand/"] {
        let req = Request::get(format!("{path}{QUERY}")).body(Body::empty()).expect("request");
        let res = router.clone().oneshot(req).await.expect("infallible");
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
        assert_eq!(&body[..], br#"{"res":1,"data":{"a":42,"b":"hello world","c":true}}"#, "{path}");
    }

    if let (Ok(only), Ok(n)) = (std::env::var("NETS_BENCH_ONLY"), std::env::var("NETS_BENCH_REQUESTS")) {
        let path = if only == "hand" { "/bench/hand/" } else { "/bench/generated/" };
        let uri = format!("{path}{QUERY}");
        for _ in 0..n.parse::<u64>().expect("NETS_BENCH_REQUESTS is a number") {
            let res = router.clone().oneshot(Request::get(&uri).body(Body::empty()).expect("request")).await;
            std::hint::black_box(axum::body::to_bytes(res.expect("infallible").into_body(), usize::MAX).await.ok());
        }
        return;
    }

    let base = if http {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = router.clone();
        tokio::spawn(async move { axum::serve(listener, server).await });
        Some(base)
    } else {
        None
    };

    let (mut generated, mut hand, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (g, h) = if round % 2 == 0 {
            let g = measure(&router, base.as_deref(), "/bench/generated/").await;
            (g, measure(&router, base.as_deref(), "/bench/hand/").await)
        } else {
            let h = measure(&router, base.as_deref(), "/bench/hand/").await;
            (measure(&router, base.as_deref(), "/bench/generated/").await, h)
        };
        generated.push(g);
        hand.push(h);
        ratios.push(g / h);
    }
    println!(
        "mode: {}",
        if http { "HTTP over loopback, 16 connections" } else { "in-process (router.oneshot), one thread" }
    );
    println!("generated #[request_handler]: {:>10.0} req/s (median of {ROUNDS})", median(generated));
    println!("hand-written axum:            {:>10.0} req/s", median(hand));
    println!("ratio generated/hand-written: {:.3} (median of per-round ratios; target >= 0.95)", median(ratios));
}
