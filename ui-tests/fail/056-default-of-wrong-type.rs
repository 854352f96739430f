// A `default` whose type is not the parameter's: reported once, at the value.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(default = "1")] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
