// A `custom` validator whose signature does not take the parameter's type.
use nets_runtime::prelude::*;

fn even(value: &i64) -> Result<(), validator::ValidationError> {
    if value % 2 == 0 { Ok(()) } else { Err(validator::ValidationError::new("even")) }
}

#[request_handler(path = "invoices/", public)]
async fn list_invoices(#[param(validate(custom(function = even)))] page: String) -> ApiResult<String> {
    Ok(page)
}

fn main() {}
