// A method taking `self`: handlers are free functions.
use nets_runtime::prelude::*;

struct Invoices;

impl Invoices {
    #[request_handler(path = "invoices/", public)]
    async fn list(&self) -> ApiResult<Vec<i64>> {
        Ok(vec![])
    }
}

fn main() {}
