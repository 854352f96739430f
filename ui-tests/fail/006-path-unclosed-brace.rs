// A path parameter whose '{' is never closed.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/{id/", public)]
async fn show_invoice(id: i64) -> ApiResult<i64> {
    Ok(id)
}

fn main() {}
