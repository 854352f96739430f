//! Throughput of `#[request_handler]` endpoints against hand-written axum handlers doing
//! the same work, in the same process, behind the same middleware:
//!
//! * three query parameters parsed, JSON envelope answered;
//! * a `model = T` lookup (`#[derive(NetsModel)]`) against a handler running the same
//!   SQLite query with sqlx;
//! * a private endpoint behind OAuth2 bearer authentication (`OAuth::bearer`) against a
//!   handler that digests the token and runs the same user query itself;
//! * a `can_do` permission (the same bearer authentication, then [`Perms`]' cached check)
//!   against a handler doing that token check and calling the same cached
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
use chrono::{DateTime, Utc};
use nets_runtime::auth::AuthUser;
use nets_runtime::oauth::{ClientType, OAuth};
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
#[request_handler(path = "bench/model/{id}/", method = GET, public, model = BenchNote, public_objects)]
pub async fn bench_model(note: BenchNote) -> ApiResult<BenchNote> {
    Ok(note)
}

/// What the authenticated endpoints answer.
#[derive(Debug, Serialize)]
pub struct Me {
    pub id: i64,
}

/// Generated: a private endpoint; `BearerAuth` resolves the caller.
#[request_handler(path = "bench/me/", method = GET)]
pub async fn bench_me(ctx: Ctx) -> ApiResult<Me> {
    Ok(Me { id: ctx.require_user()?.id })
}

/// The token check `BearerAuth` makes, written by hand: digest, one query, expiry.
const HAND_AUTH_SQL: &str = "SELECT t.expires, u.id, u.email, u.is_superuser \
                             FROM nets_access_token t JOIN nets_user u ON u.id = t.user_id \
                             WHERE t.token_digest = $1 AND t.revoked_at IS NULL AND u.is_active";

/// Generated: bearer authentication, then `can_do` answered by [`Perms`] from its cache.
#[request_handler(path = "bench/perm/", method = GET, can_do = "bench.read", perm_required)]
pub async fn bench_perm() -> ApiResult<&'static str> {
    Ok("ok")
}

/// What `BearerAuth` does, by hand: digest, one query, expiry. The user, or the answer.
async fn hand_bearer(
    pool: &sqlx::SqlitePool,
    oauth: &OAuth,
    headers: &axum::http::HeaderMap,
) -> Result<AuthUser, axum::response::Response> {
    let token = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(token) = token.and_then(|v| v.strip_prefix("Bearer ")) else {
        return Err(ApiError::Unauthorized { challenge: None }.into_response());
    };
    let row = sqlx::query_as::<_, (DateTime<Utc>, i64, String, bool)>(HAND_AUTH_SQL)
        .bind(oauth.token_digest(token))
        .fetch_optional(pool)
        .await;
    match row {
        Ok(Some((expires, id, email, _))) if expires > Utc::now() => Ok(AuthUser::new(id, email)),
        Ok(_) => Err(ApiError::Unauthorized { challenge: Some("error=\"invalid_token\"".into()) }.into_response()),
        Err(e) => Err(ApiError::internal(e).into_response()),
    }
}

/// The query `#[derive(NetsModel)]` writes for `BenchNote` on SQLite.
const HAND_SQL: &str = r#"SELECT "id", "user_id", "text" FROM "bench_notes" WHERE "id" = ? LIMIT 1"#;

/// Every endpoint in one router, behind the same nets middleware stack, over a SQLite
/// file holding one note and one user with an access token. Returns the token too.
pub async fn router() -> Result<(axum::Router, String), Box<dyn std::error::Error>> {
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
    let settings = Settings::from_toml("SECRET_KEY = 'bench-xxxxxxxxxxxxxxxxxxxxxxxxxx'")?;
    let oauth = OAuth::from_settings(&settings, &db).await?;
    let client = oauth.create_application("bench", ClientType::Confidential).await?;
    let token = oauth.generate_tokens(1, client.id, None).await?.access_token;

    let perms = Perms::from_settings(&settings, &db).await?;
    perms.get_or_create_role_permission("reader", "bench.read").await?;
    perms.add_user_to_role(1, None, "reader").await?;

    let (auth_pool, auth_oauth) = (pool.clone(), oauth.clone());
    let hand_auth = get(move |headers: axum::http::HeaderMap| {
        let (pool, oauth) = (auth_pool.clone(), auth_oauth.clone());
        async move {
            match hand_bearer(&pool, &oauth, &headers).await {
                Ok(user) => axum::Json(Envelope { res: 1, data: Me { id: user.id } }).into_response(),
                Err(response) => response,
            }
        }
    });
    let (perm_pool, perm_oauth, hand_perms) = (pool.clone(), oauth.clone(), perms.clone());
    let hand_perm = get(move |headers: axum::http::HeaderMap| {
        let (pool, oauth, perms) = (perm_pool.clone(), perm_oauth.clone(), hand_perms.clone());
        async move {
            let user = match hand_bearer(&pool, &oauth, &headers).await {
                Ok(user) => user,
                Err(response) => return response,
            };
            match perms.check_perm(&user, "bench.read", None).await {
                Ok(true) => axum::Json(Envelope { res: 1, data: "ok" }).into_response(),
                Ok(false) => ApiError::Forbidden.into_response(),
                Err(e) => ApiError::from(e).into_response(),
            }
        }
    });

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
    let hand_written = axum::Router::new()
        .route("/bench/hand/", get(bench_hand_written))
        .route("/bench/hand-model/{id}/", hand_model)
        .route("/bench/hand-me/", hand_auth)
        .route("/bench/hand-perm/", hand_perm);
    let routes = build_urlpatterns!(self)?.axum(hand_written);
    let app = App::builder(settings).database(db).install(oauth).install(perms).routes(routes).build()?;
    Ok((app.router(), token))
}

/// A GET request, with the bearer token when given.
fn request(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut req = Request::get(uri);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    req.body(Body::empty()).expect("request")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Requests per second calling the router directly.
async fn in_process(router: &axum::Router, uri: &str, token: Option<&str>) -> f64 {
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < ROUND_TIME {
        for _ in 0..256 {
            let req = request(uri, token);
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
async fn over_http(base: &str, uri: &str, token: Option<&str>) -> f64 {
    let url = format!("{base}{uri}");
    // rustls (nets' push client) needs its crypto provider before any client.
    nets_runtime::install_crypto_provider();
    let client = reqwest::Client::new();
    let start = Instant::now();
    let tasks: Vec<_> = (0..HTTP_CONNECTIONS)
        .map(|_| {
            let (client, url, token) = (client.clone(), url.clone(), token.map(str::to_owned));
            tokio::spawn(async move {
                let mut n = 0u64;
                while start.elapsed() < ROUND_TIME {
                    let mut req = client.get(&url);
                    if let Some(token) = &token {
                        req = req.bearer_auth(token);
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

async fn measure(router: &axum::Router, base: Option<&str>, uri: &str, token: Option<&str>) -> f64 {
    match base {
        Some(base) => over_http(base, uri, token).await,
        None => in_process(router, uri, token).await,
    }
}

/// One comparison: the generated endpoint, its hand-written twin, their shared answer.
struct Comparison {
    name: &'static str,
    generated: String,
    hand: String,
    expected: &'static [u8],
    /// Sends the bearer token.
    authenticated: bool,
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
    let (router, token) = router().await.expect("router");
    let comparisons = [
        Comparison {
            name: "three query parameters",
            generated: format!("/bench/generated/{QUERY}"),
            hand: format!("/bench/hand/{QUERY}"),
            expected: br#"{"res":1,"data":{"a":42,"b":"hello world","c":true}}"#,
            authenticated: false,
        },
        Comparison {
            name: "model lookup (SQLite)",
            generated: "/bench/model/1/".into(),
            hand: "/bench/hand-model/1/".into(),
            expected: br#"{"res":1,"data":{"id":1,"user_id":7,"text":"hello"}}"#,
            authenticated: false,
        },
        Comparison {
            name: "bearer token authentication (SQLite)",
            generated: "/bench/me/".into(),
            hand: "/bench/hand-me/".into(),
            expected: br#"{"res":1,"data":{"id":1}}"#,
            authenticated: true,
        },
        Comparison {
            name: "can_do permission (cached, after bearer authentication)",
            generated: "/bench/perm/".into(),
            hand: "/bench/hand-perm/".into(),
            expected: br#"{"res":1,"data":"ok"}"#,
            authenticated: true,
        },
    ];

    // Same answer from both sides, or the comparison means nothing.
    for c in &comparisons {
        for uri in [&c.generated, &c.hand] {
            let req = request(uri, c.authenticated.then_some(token.as_str()));
            let res = router.clone().oneshot(req).await.expect("infallible");
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
            assert_eq!(&body[..], c.expected, "{uri}");
        }
    }

    if let (Ok(uri), Ok(n)) = (std::env::var("NETS_BENCH_URI"), std::env::var("NETS_BENCH_REQUESTS")) {
        // The token goes only where its comparison sends it: a public endpoint given a
        // token would authenticate it (one query) and no longer match its twin.
        let authenticated = comparisons.iter().any(|c| c.authenticated && (c.generated == uri || c.hand == uri));
        let token = authenticated.then_some(token.as_str());
        for _ in 0..n.parse::<u64>().expect("NETS_BENCH_REQUESTS is a number") {
            let res = router.clone().oneshot(request(&uri, token)).await;
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
        let token = c.authenticated.then_some(token.as_str());
        for round in 0..ROUNDS {
            let (g, h) = if round % 2 == 0 {
                let g = measure(&router, base.as_deref(), &c.generated, token).await;
                (g, measure(&router, base.as_deref(), &c.hand, token).await)
            } else {
                let h = measure(&router, base.as_deref(), &c.hand, token).await;
                (measure(&router, base.as_deref(), &c.generated, token).await, h)
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
