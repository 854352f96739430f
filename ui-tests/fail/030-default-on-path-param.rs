// `default` on a path parameter, which is always present.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/{id}/", public)]
async fn show_invoice(#[param(default = 1)] id: i64) -> ApiResult<i64> {
    Ok(id)
}

fn main() {}
