//! Throughput of `#[request_handler]` endpoints against hand-written axum handlers doing
//! the same work, in the same process, behind the same middleware:
//!
//! * three query parameters parsed, JSON envelope answered;
//! * a `model = T` lookup (`#[derive(NetsModel)]`) against a handler running the same
//!   SQLite query with sqlx;
//! * a `can_do` permission (bearer authentication, then [`Perms`]' cached check) against a
//!   handler that authenticates the same token and calls the same cached
//!   `Perms::check_perm`.
//!
//! `cargo bench -p nets-examples --bench endpoint` (add `-- --http` to go through TCP
//! with concurrent keep-alive clients instead of calling the router in-process).
//!
//! Each round measures both endpoints back to back (in alternating order), so noise from
//! a shared machine hits both alike; the report gives the median throughput of each and
//! the median of the per-round ratios. Target: ≥ 0.95.
//!
//! `NETS_BENCH_URI=/bench/generated/?a=42&b=x&c=true` with `NETS_BENCH_REQUESTS=N` runs
//! exactly N requests of one URI and exits, for instruction counts under
//! `valgrind --tool=callgrind`, which unlike wall time do not depend on the machine's load.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Query;
use axum::http::Request;
use axum::response::IntoResponse;
use axum::routing::get;
use nets_runtime::auth::{AuthUser, StaticBearer};
use nets_runtime::perms::Perms;
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

/// A row of the lookup benchmark.
#[derive(Debug, Serialize, sqlx::FromRow, NetsModel)]
#[nets(table = "bench_notes", owner = "user_id")]
pub struct BenchNote {
    pub id: i64,
    pub user_id: i64,
    pub text: String,
}

/// Generated: index from the path, one query, ownership rule, envelope.
#[request_handler(path = "bench/model/{id}/", method = GET, public, model = BenchNote)]
pub async fn bench_model(note: BenchNote) -> ApiResult<BenchNote> {
    Ok(note)
}

/// The query `#[derive(NetsModel)]` writes for `BenchNote` on SQLite.
const HAND_SQL: &str = r#"SELECT "id", "user_id", "text" FROM "bench_notes" WHERE "id" = ? LIMIT 1"#;

/// Generated: bearer authentication, then `can_do` answered by [`Perms`] from its cache.
#[request_handler(path = "bench/perm/", method = GET, can_do = "bench.read", perm_required)]
pub async fn bench_perm() -> ApiResult<&'static str> {
    Ok("ok")
}

/// The bearer token of the permission benchmark, and its user.
const BENCH_TOKEN: &str = "bench-token";

fn bench_user() -> AuthUser {
    AuthUser::new(1, "bench@example.com")
}

/// Every endpoint in one router, behind the same nets middleware stack, over a SQLite
/// file holding one note.
pub async fn router() -> Result<axum::Router, Box<dyn std::error::Error>> {
    let file = std::env::temp_dir().join(format!("nets-bench-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let db = nets_runtime::db::Db::connect(&format!("sqlite://{}?mode=rwc", file.display()), 8).await?;
    let nets_runtime::db::Db::Sqlite(pool) = db.clone() else { return Err("expected a SQLite database".into()) };
    sqlx::query("CREATE TABLE bench_notes (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, text TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO bench_notes (id, user_id, text) VALUES (1, 7, 'hello')").execute(&pool).await?;
    db.migrate().await?;
    sqlx::query("INSERT INTO nets_user (id, email) VALUES (1, 'bench@example.com')").execute(&pool).await?;
    let perms = Perms::from_settings(&Settings::default(), &db).await?;
    perms.get_or_create_role_permission("reader", "bench.read").await?;
    perms.add_user_to_role(1, None, "reader").await?;

    let hand_model = get(move |axum::extract::Path(id): axum::extract::Path<i64>| {
        let pool = pool.clone();
        async move {
            match sqlx::query_as::<_, BenchNote>(HAND_SQL).bind(id).fetch_optional(&pool).await {
                Ok(Some(note)) => axum::Json(Envelope { res: 1, data: note }).into_response(),
                Ok(None) => ApiError::NotFound.into_response(),
                Err(e) => ApiError::internal(e).into_response(),
            }
        }
    });
    let hand_perms = perms.clone();
    let hand_perm = get(move |headers: axum::http::HeaderMap| {
        let perms = hand_perms.clone();
        async move {
            let token = headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if token != Some(BENCH_TOKEN) {
                return ApiError::Unauthorized { challenge: None }.into_response();
            }
            match perms.check_perm(&bench_user(), "bench.read", None).await {
                Ok(true) => axum::Json(Envelope { res: 1, data: "ok" }).into_response(),
                Ok(false) => ApiError::Forbidden.into_response(),
                Err(e) => ApiError::from(e).into_response(),
            }
        }
    });
    let routes = build_urlpatterns!(self)?
        .route("/bench/hand/", get(bench_hand_written))
        .route("/bench/hand-model/{id}/", hand_model)
        .route("/bench/hand-perm/", hand_perm);
    let builder = App::builder(Settings::default())
        .database(db)
        .authenticator(StaticBearer::new().token(BENCH_TOKEN, bench_user()));
    Ok(perms.install(builder).build().router(routes))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A GET of `uri`, with the benchmark's bearer token when `auth`.
fn request(uri: &str, auth: bool) -> Request<Body> {
    let mut req = Request::get(uri);
    if auth {
        req = req.header("authorization", format!("Bearer {BENCH_TOKEN}"));
    }
    req.body(Body::empty()).expect("request")
}

/// Requests per second calling the router directly.
async fn in_process(router: &axum::Router, uri: &str, auth: bool) -> f64 {
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < ROUND_TIME {
        for _ in 0..256 {
            let req = request(uri, auth);
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
async fn over_http(base: &str, uri: &str, auth: bool) -> f64 {
    let url = format!("{base}{uri}");
    let client = reqwest::Client::new();
    let start = Instant::now();
    let tasks: Vec<_> = (0..HTTP_CONNECTIONS)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while start.elapsed() < ROUND_TIME {
                    let mut req = client.get(&url);
                    if auth {
                        req = req.bearer_auth(BENCH_TOKEN);
                    }
                    let res = req.send().await.expect("send");
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

async fn measure(router: &axum::Router, base: Option<&str>, uri: &str, auth: bool) -> f64 {
    match base {
        Some(base) => over_http(base, uri, auth).await,
        None => in_process(router, uri, auth).await,
    }
}

/// One comparison: the generated endpoint, its hand-written twin, their shared answer.
struct Comparison {
    name: &'static str,
    generated: String,
    hand: String,
    expected: &'static [u8],
    /// Whether requests carry the bearer token.
    auth: bool,
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
    let router = router().await.expect("router");
    let comparisons = [
        Comparison {
            name: "three query parameters",
            generated: format!("/bench/generated/{QUERY}"),
            hand: format!("/bench/hand/{QUERY}"),
            expected: br#"{"res":1,"data":{"a":42,"b":"hello world","c":true}}"#,
            auth: false,
        },
        Comparison {
            name: "model lookup (SQLite)",
            generated: "/bench/model/1/".into(),
            hand: "/bench/hand-model/1/".into(),
            expected: br#"{"res":1,"data":{"id":1,"user_id":7,"text":"hello"}}"#,
            auth: false,
        },
        Comparison {
            name: "can_do permission (cached)",
            generated: "/bench/perm/".into(),
            hand: "/bench/hand-perm/".into(),
            expected: br#"{"res":1,"data":"ok"}"#,
            auth: true,
        },
    ];

    // Same answer from both sides, or the comparison means nothing.
    for c in &comparisons {
        for uri in [&c.generated, &c.hand] {
            let res = router.clone().oneshot(request(uri, c.auth)).await.expect("infallible");
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
            assert_eq!(&body[..], c.expected, "{uri}");
        }
    }

    if let (Ok(uri), Ok(n)) = (std::env::var("NETS_BENCH_URI"), std::env::var("NETS_BENCH_REQUESTS")) {
        for _ in 0..n.parse::<u64>().expect("NETS_BENCH_REQUESTS is a number") {
            let auth = uri.contains("perm");
            let res = router.clone().oneshot(request(&uri, auth)).await;
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

    println!(
        "mode: {}",
        if http { "HTTP over loopback, 16 connections" } else { "in-process (router.oneshot), one thread" }
    );
    for c in &comparisons {
        let (mut generated, mut hand, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let (g, h) = if round % 2 == 0 {
                let g = measure(&router, base.as_deref(), &c.generated, c.auth).await;
                (g, measure(&router, base.as_deref(), &c.hand, c.auth).await)
            } else {
                let h = measure(&router, base.as_deref(), &c.hand, c.auth).await;
                (measure(&router, base.as_deref(), &c.generated, c.auth).await, h)
            };
            generated.push(g);
            hand.push(h);
            ratios.push(g / h);
        }
        println!("{}:", c.name);
        println!("  generated #[request_handler]: {:>10.0} req/s (median of {ROUNDS})", median(generated));
        println!("  hand-written axum:            {:>10.0} req/s", median(hand));
        println!("  ratio generated/hand-written: {:.3} (median of per-round ratios; target >= 0.95)", median(ratios));
    }
}
