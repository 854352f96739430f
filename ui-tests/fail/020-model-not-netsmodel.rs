// `model = T` where T does not implement NetsModel: the error points at the type.
use nets_runtime::prelude::*;

#[derive(serde::Serialize)]
struct Invoice {
    id: i64,
}

#[request_handler(path = "invoices/{id}/", model = Invoice)]
async fn show_invoice(invoice: Invoice) -> ApiResult<Invoice> {
    Ok(invoice)
}

fn main() {}
