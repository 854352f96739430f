// An `impl Trait` return that is neither a response nor `ApiResult<impl Serialize>`.
use nets_runtime::prelude::*;

#[request_handler(path = "invoices/", public)]
async fn list_invoices() -> impl std::fmt::Debug {
    vec![1, 2, 3]
}

fn main() {}
