// Two slashes in a row make an empty segment.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices//lines/", public)]
async fn list_lines() -> ApiResult<Vec<i64>> {
    Ok(vec![])
}

fn main() {}
