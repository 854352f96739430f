// A path parameter sharing its segment with literal text.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/a{id}/", public)]
async fn show_invoice(id: i64) -> ApiResult<i64> {
    Ok(id)
}

fn main() {}
