// An empty route name.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", name = "", public)]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
