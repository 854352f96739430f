// An HTTP method that does not exist.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", methods = [GET, FETCH], public)]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
