// An empty method list (leave the key out to allow every method).
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", methods = [], public)]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
