// The one fixture with several mistakes: every one is reported in the same build.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/{id}/{}/", methods = [GET, FETCH], can_do = ["a.b.c"])]
fn list_invoices<T>(#[param(defualt = 1)] page: i64) -> ApiResult<i64> {
    Ok(page)
}

fn main() {}
