// `can_do` with nothing saying what a failed check does: the handler would run anyway.
use nets_runtime::prelude::*;

#[request_handler(path = "reports/", method = GET, can_do = "reports.view")]
async fn reports() -> ApiResult<&'static str> {
    Ok("numbers")
}

fn main() {}
