// Two #[param(..)] attributes on one argument.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(default = 1)] #[param(description = "Page number")] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
