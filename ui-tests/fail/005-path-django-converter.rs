// A Django-style converter instead of a {name} segment.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/<int:id>/", public)]
async fn show_invoice(id: i64) -> ApiResult<i64> {
    Ok(id)
}

fn main() {}
