// A misspelt attribute key: darling suggests the right one.
use nets_runtime::prelude::*;

#[request_handler(pathh = "invoices/", public)]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
