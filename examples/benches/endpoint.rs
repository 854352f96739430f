//! Throughput of a `#[request_handler]` endpoint against a hand-written axum handler
//! doing the same work (parse three query parameters, answer the JSON envelope), in the
//! same process, behind the same middleware.
//!
//! `cargo bench -p nets-examples --bench endpoint` (add `-- --http` to go through TCP
//! with concurrent keep-alive clients instead of calling the router in-process).
//!
//! Rounds alternate between the two endpoints so that frequency scaling and noise hit
//! both alike; the report gives the median of each and their ratio. Target: ≥ 0.95.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Query;
use axum::http::Request;
use axum::routing::get;
use nets_runtime::prelude::*;
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

const ROUNDS: usize = 7;
const ROUND_TIME: Duration = Duration::from_millis(700);
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

#[tokio::main]
async fn main() {
    let http = std::env::args().any(|a| a == "--http");
    let router = router().expect("routes");

    // Same answer from both, or the comparison means nothing.
    for path in ["/bench/generated/", "/bench/hand/"] {
        let req = Request::get(format!("{path}{QUERY}")).body(Body::empty()).expect("request");
        let res = router.clone().oneshot(req).await.expect("infallible");
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
        assert_eq!(&body[..], br#"{"res":1,"data":{"a":42,"b":"hello world","c":true}}"#, "{path}");
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

    let (mut generated, mut hand) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        for (path, out) in [("/bench/generated/", &mut generated), ("/bench/hand/", &mut hand)] {
            // NETS_BENCH_ONLY=generated (or =hand) runs one side alone, for profilers.
            if std::env::var("NETS_BENCH_ONLY").is_ok_and(|only| !path.contains(only.as_str())) {
                out.push(1.0);
                continue;
            }
            let rps = match &base {
                Some(base) => over_http(base, path).await,
                None => in_process(&router, path).await,
            };
            out.push(rps);
        }
    }
    let (g, h) = (median(generated), median(hand));
    println!("mode: {}", if http { "HTTP over loopback, 16 connections" } else { "in-process (router.oneshot)" });
    println!("generated #[request_handler]: {g:>10.0} req/s");
    println!("hand-written axum:            {h:>10.0} req/s");
    println!("ratio generated/hand-written: {:.3} (target >= 0.95)", g / h);
}
