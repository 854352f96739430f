// Two arguments read the same request parameter (one through `rename`).
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(page: i64, #[param(rename = "page")] page_number: Option<i64>) -> ApiResult<i64> {
    Ok(page + page_number.unwrap_or(0))
}

fn main() {}
