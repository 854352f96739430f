// A method given as something other than a name or a string.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", methods = [GET, 1], public)]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
