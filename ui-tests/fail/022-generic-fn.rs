// A generic handler: the route would not know which type to use.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices<T: Default>() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
