// `#[param(body)]`: a whole structured body, deserialised and validated by its derives.
use nets_runtime::prelude::*;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(Deserialize, Validate)]
struct NewInvoice {
    #[validate(length(min = 1, max = 80))]
    title: String,
    #[validate(range(min = 1))]
    amount_cents: i64,
}

#[derive(Serialize)]
struct Created {
    id: i64,
    title: String,
}

#[request_handler(path = "invoices/", method = POST, public)]
async fn create_invoice(#[param(body)] invoice: NewInvoice, #[param(default = false)] draft: bool) -> ApiResult<Created> {
    let _ = (invoice.amount_cents, draft);
    Ok(Created { id: 1, title: invoice.title })
}

fn main() {
    assert_eq!(nets_runtime::route_registry()[0].methods, ["POST"]);
}
