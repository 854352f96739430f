// The same key given twice.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public, path = "bills/")]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
