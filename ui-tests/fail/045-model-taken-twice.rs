// The loaded model taken by two arguments.
use nets_runtime::prelude::*;

#[derive(serde::Serialize)]
struct Invoice {
    id: i64,
}

impl NetsModel for Invoice {
    const TABLE: &'static str = "invoices";

    async fn find_by_index(_ctx: &Ctx, _field: &str, _value: &str) -> Result<Option<Self>, ApiError> {
        Ok(None)
    }
}
nets_runtime::model_argument!(Invoice);

#[request_handler(path = "invoices/{id}/", model = Invoice)]
async fn show_invoice(invoice: Invoice, again: Invoice) -> ApiResult<i64> {
    Ok(invoice.id + again.id)
}

fn main() {}
