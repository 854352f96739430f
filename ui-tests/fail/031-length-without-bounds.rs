// `length()` with no bound checks nothing.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", method = POST, public)]
async fn create_invoice(#[param(validate(length()))] title: String) -> ApiResult<String> {
    Ok(title)
}

fn main() {}
