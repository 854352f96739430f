// `perm_required` with no `can_do` to check: every request would be denied.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", perm_required)]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
