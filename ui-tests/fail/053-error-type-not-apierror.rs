// `Result<T, E>` where E does not convert into ApiError: the error points at E.
use nets_runtime::prelude::*;

#[derive(Debug)]
struct BillingError;

#[request_handler(path = "invoices/{id}/", public)]
async fn show_invoice(id: i64) -> Result<i64, BillingError> {
    if id < 0 {
        return Err(BillingError);
    }
    Ok(id)
}

fn main() {}
