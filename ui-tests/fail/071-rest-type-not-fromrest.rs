// A `rest` parameter's type must hold every undeclared key (`FromRest`).
use nets_runtime::prelude::*;

#[request_handler(path = "profile/", method = POST, public)]
async fn update_profile(#[param(rest)] fields: Vec<String>) -> ApiResult<usize> {
    Ok(fields.len())
}

fn main() {}
