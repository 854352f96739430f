// `validate(range(..))` on a string: the error points at the type.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(validate(range(min = 1)))] page: String) -> ApiResult<String> {
    Ok(page)
}

fn main() {}
