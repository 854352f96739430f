// `validate(regex = ..)` on a number: the error points at the type.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(validate(regex = "^[0-9]+$"))] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
