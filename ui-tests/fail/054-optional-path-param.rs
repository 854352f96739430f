// An `Option<T>` path parameter: the path always has it.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/{id}/", public)]
async fn show_invoice(id: Option<i64>) -> ApiResult<i64> {
    Ok(id.unwrap_or(0))
}

fn main() {}
