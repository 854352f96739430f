// A return type that is neither ApiResult<T> nor a response: the error points at it.
use nets_runtime::prelude::*;

struct Invoice {
    id: i64,
}

#[request_handler(path = "invoices/{id}/", public)]
async fn show_invoice(id: i64) -> Invoice {
    Invoice { id }
}

fn main() {}
