// An `impl Trait` argument: nets must know the type to read it.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices(page: impl Into<i64>) -> ApiResult<i64> {
    Ok(page.into())
}

fn main() {}
