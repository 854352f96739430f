// An empty `can_do` list.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", can_do = [])]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
