// Both `method` and `methods`.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", methods = [GET, POST], method = GET, public)]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
