// `perm_optional` contradicts `perm_required`, and means nothing without `can_do`.
use nets_runtime::prelude::*;

#[request_handler(path = "reports/", method = GET, can_do = "reports.view", perm_required, perm_optional)]
async fn reports() -> ApiResult<&'static str> {
    Ok("numbers")
}

#[request_handler(path = "board/", method = GET, perm_optional)]
async fn board() -> ApiResult<&'static str> {
    Ok("board")
}

fn main() {}
