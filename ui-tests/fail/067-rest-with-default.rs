// `rest` takes the undeclared keys as they are: a default does not apply.
use nets_runtime::params::Rest;
use nets_runtime::prelude::*;

#[request_handler(path = "profile/", method = POST, public)]
async fn update_profile(#[param(rest, default = Rest::default())] fields: Rest) -> ApiResult<usize> {
    Ok(fields.0.len())
}

fn main() {}
