// A {name} in the path with no argument of that name.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/{invoice_id}/", public)]
async fn show_invoice(id: i64) -> ApiResult<i64> {
    Ok(id)
}

fn main() {}
