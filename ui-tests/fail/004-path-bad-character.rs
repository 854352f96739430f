// A character that has no place in a path template ('?' starts a query string).
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/{id}?/", public)]
async fn show_invoice(id: i64) -> ApiResult<i64> {
    Ok(id)
}

fn main() {}
