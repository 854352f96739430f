// The second fixture with several mistakes: a misspelt key does not hide the
// signature's own mistake.
use nets_runtime::prelude::*;

#[request_handler(pathh = "invoices/", public)]
fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
