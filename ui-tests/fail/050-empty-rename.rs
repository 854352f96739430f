// `rename` to an empty name.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(rename = "")] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
