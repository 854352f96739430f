// A bare #[param] with nothing in it.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
