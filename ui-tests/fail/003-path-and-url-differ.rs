// `path` and `url` are aliases; giving both with different values is ambiguous.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", url = "bills/", public)]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
