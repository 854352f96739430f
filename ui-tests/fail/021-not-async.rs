// A handler that is not `async`.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
