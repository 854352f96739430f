// `index_field` without a `model` to look up.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/{number}/", index_field = "number")]
async fn show_invoice(number: String) -> ApiResult<String> {
    Ok(number)
}

fn main() {}
