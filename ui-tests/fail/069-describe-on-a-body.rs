// `describe` gives a parameter's JSON Schema in the app; a `body` structure has its own
// (`#[derive(utoipa::ToSchema)]`), so `describe` there would mean two schemas.
use nets_runtime::prelude::*;

#[derive(serde::Deserialize, validator::Validate)]
struct Profile {
    name: String,
}

fn profile_schema(_: &App) -> Option<serde_json::Value> {
    None
}

#[request_handler(path = "profile/", method = POST, public)]
async fn update_profile(#[param(body, describe = profile_schema)] profile: Profile) -> ApiResult<String> {
    Ok(profile.name)
}

fn main() {}
