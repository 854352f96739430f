// A #[param(body)] type that is neither Deserialize nor Validate.
use nets_runtime::prelude::*;

struct NewInvoice {
    title: String,
}

#[request_handler(path = "invoices/", method = POST, public)]
async fn create_invoice(#[param(body)] invoice: NewInvoice) -> ApiResult<String> {
    Ok(invoice.title)
}

fn main() {}
