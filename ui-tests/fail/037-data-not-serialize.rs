// ApiResult<T> where T does not serialise: the error points at T.
use nets_runtime::prelude::*;

struct Invoice {
    id: i64,
}

#[request_handler(path = "invoices/{id}/", public)]
async fn show_invoice(id: i64) -> ApiResult<Invoice> {
    Ok(Invoice { id })
}

fn main() {}
