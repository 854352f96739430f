// `validate(..)` on a `#[param(body)]`, which is validated by its own derive.
use nets_runtime::prelude::*;

#[derive(serde::Deserialize, validator::Validate)]
struct NewInvoice {
    #[validate(length(min = 1))]
    title: String,
}

#[request_handler(path = "invoices/", method = POST, public)]
async fn create_invoice(#[param(body, validate(length(min = 1)))] invoice: NewInvoice) -> ApiResult<String> {
    Ok(invoice.title)
}

fn main() {}
