// `range()` with no bound checks nothing.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(validate(range()))] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
