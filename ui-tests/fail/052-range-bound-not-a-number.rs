// A `range` bound that is not a number literal.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(validate(range(min = "one")))] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
