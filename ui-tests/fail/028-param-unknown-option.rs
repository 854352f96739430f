// A misspelt #[param] option.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(defualt = 1)] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
