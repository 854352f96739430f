// Attribute arguments that are not `key = value` or `flag` items.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public,, method = GET)]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
