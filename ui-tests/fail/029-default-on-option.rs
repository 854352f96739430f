// `default` on an `Option<T>`, which is already optional.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(default = Some(1))] page: Option<i64>) -> ApiResult<i64> {
    Ok(page.unwrap_or(1))
}

fn main() {}
