// A path parameter name that cannot be an argument name.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/{invoice-id}/", public)]
async fn show_invoice(invoice_id: i64) -> ApiResult<i64> {
    Ok(invoice_id)
}

fn main() {}
