// `validate(length(..))` on a type that has no length: the error points at the type.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(validate(length(max = 3)))] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
