// `length` bounds that no value can satisfy.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", method = POST, public)]
async fn create_invoice(#[param(validate(length(min = 5, max = 1)))] title: String) -> ApiResult<String> {
    Ok(title)
}

fn main() {}
