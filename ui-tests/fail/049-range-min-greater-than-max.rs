// `range` bounds that no value can satisfy.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(validate(range(min = 10, max = 1)))] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
