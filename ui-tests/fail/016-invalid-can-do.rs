// A permission codename that is not `action`, `app.action` or `role:<name>`.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", can_do = ["billing.invoices.view"], perm_required)]
async fn list_invoices() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
