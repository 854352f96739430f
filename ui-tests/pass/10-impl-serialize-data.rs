// `ApiResult<impl Serialize>`: data in the envelope even though its type is not named
// (no schema is documented for it).
use nets_runtime::prelude::*;
use serde::Serialize;

#[request_handler(path = "stats/", method = GET, public)]
async fn stats() -> ApiResult<impl Serialize> {
    Ok(serde_json::json!({"invoices": 3}))
}

#[request_handler(path = "totals/", method = GET, public)]
async fn totals() -> ApiResult<Vec<impl Serialize>> {
    Ok(vec![1, 2, 3])
}

fn main() {
    assert_eq!(nets_runtime::route_registry().len(), 2);
}
