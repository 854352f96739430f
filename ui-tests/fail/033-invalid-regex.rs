// A regular expression that does not compile.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", method = POST, public)]
async fn create_invoice(#[param(validate(regex = "^[A-Z{2}$"))] code: String) -> ApiResult<String> {
    Ok(code)
}

fn main() {}
