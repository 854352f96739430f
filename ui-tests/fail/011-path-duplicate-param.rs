// The same path parameter twice.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/{id}/lines/{id}/", public)]
async fn show_line(id: i64) -> ApiResult<i64> {
    Ok(id)
}

fn main() {}
