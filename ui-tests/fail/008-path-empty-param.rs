// An empty path parameter '{}'.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/{}/", public)]
async fn show_invoice(id: i64) -> ApiResult<i64> {
    Ok(id)
}

fn main() {}
