// `Result<T, E>` with the user's own error type, converted through `Into<ApiError>`.
use nets_runtime::prelude::*;

enum BillingError {
    Locked,
}

impl From<BillingError> for ApiError {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::Locked => ApiError::bad_request("the invoice is locked"),
        }
    }
}

#[request_handler(path = "invoices/{id}/lock/", method = POST, public)]
async fn lock_invoice(id: i64) -> Result<i64, BillingError> {
    if id == 0 {
        return Err(BillingError::Locked);
    }
    Ok(id)
}

fn main() {
    assert_eq!(nets_runtime::route_registry().len(), 1);
}
