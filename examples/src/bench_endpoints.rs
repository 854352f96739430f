//! The two endpoints the `endpoint` benchmark compares: the same work (read three
//! query parameters, answer the JSON envelope) written with `#[request_handler]` and by
//! hand with plain axum extractors.

use axum::extract::Query;
use axum::routing::get;
use nets_runtime::prelude::*;
use serde::{Deserialize, Serialize};

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
    let routes = build_urlpatterns!(crate::bench_endpoints)?.route("/bench/hand/", get(bench_hand_written));
    Ok(App::builder(Settings::default()).build().router(routes))
}
