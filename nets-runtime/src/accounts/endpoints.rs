//! The account endpoints, declared with `#[request_handler]` like any app's: they run
//! the common pipeline (the app's authenticator, body rules and limits, `TIME_ZONE`,
//! client address, one `Missing params` list, the JSON 405), appear in
//! [`route_registry`](crate::route_registry) and are documented in `/openapi.json` from
//! the registry. Installing [`Accounts`] serves them.
//!
//! The identifier parameter is named by `NETS_CORE_USER_IDENTIFIER` (`email` or
//! `username`): `#[param(name_from = ..)]` reads the name from the settings at start-up.

use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::{Accounts, MAX_BODY_BYTES, input};
use crate::params::Rest;
use crate::{ApiError, ApiResult, App, Ctx, Settings, State, Success, request_handler};

/// The identifier parameter: `email` or `username`, as `NETS_CORE_USER_IDENTIFIER` says.
fn identifier(settings: &Settings) -> Option<&'static str> {
    Some(settings.user_identifier.column())
}

/// The address of a new account on username logins (`email`); none on e-mail logins,
/// where `email` is the identifier itself.
fn new_address(settings: &Settings) -> Option<&'static str> {
    match settings.user_identifier {
        crate::users::Identifier::Email => None,
        crate::users::Identifier::Username => Some("email"),
    }
}

/// Bodies of these endpoints are a handful of short fields.
fn small_body(_: &App) -> usize {
    MAX_BODY_BYTES
}

/// `/update/` makes room for one file per file field.
fn update_body(app: &App) -> usize {
    app.state::<Accounts>().map_or(MAX_BODY_BYTES, |a| a.0.update_limit)
}

/// Sends a one-time code to the identifier's address (answers `CODE SENT` whether or
/// not the account exists). `device` registers the device the code is bound to.
#[request_handler(path = "login/", methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
async fn login(
    ctx: Ctx,
    accounts: State<Accounts>,
    #[param(name_from = identifier, describe = identifier_schema, description = "The account's e-mail (or username)")]
    identifier: String,
    #[param(name_from = new_address, description = "Username logins: the new account's address")] email: Option<String>,
    #[param(description = "The device: {uuid?, name?, os?, firebase_token?, ...}")] device: Option<Value>,
) -> ApiResult<Success<&'static str>> {
    let device_uuid = accounts.login(&ctx, &identifier, email.as_deref(), device.as_ref()).await?;
    Ok(Success::new("CODE SENT").extra(json!({"device_uuid": device_uuid})))
}

/// Exchanges a one-time code for OAuth tokens of the client `client_id`.
#[request_handler(path = "authenticate/", methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
async fn authenticate(
    ctx: Ctx,
    accounts: State<Accounts>,
    #[param(name_from = identifier)] identifier: String,
    #[param(secret)] code: String,
    client_id: String,
    #[param(secret)] client_secret: String,
    device_uuid: Option<String>,
) -> ApiResult<Value> {
    input::limit(accounts.0.0.users.identifier().column(), &identifier, 254)?;
    input::limit("code", &code, 32)?;
    input::limit("client_id", &client_id, 256)?;
    input::limit("client_secret", &client_secret, 256)?;
    let device_uuid = input::uuid("device_uuid", device_uuid.as_deref())?;
    let account = accounts.normalize_identifier(&identifier)?;
    accounts.count_code_check(&ctx, &account, device_uuid).await?;
    let (user, tokens) = accounts.authenticate(&identifier, &code, &client_id, &client_secret, device_uuid).await?;
    let user_json = accounts.user_json(user, None).await?;
    accounts.send_new_login(user, &user_json).await;
    Ok(super::external::login_answer(&tokens, user_json))
}

/// Revokes the presented token's login (access and refresh tokens); deletes the device
/// `device_uuid` when sent.
#[request_handler(path = "logout/", methods = [POST], body_limit = small_body, tags = ["nets_core_auth"])]
async fn logout(
    ctx: Ctx,
    accounts: State<Accounts>,
    headers: HeaderMap,
    device_uuid: Option<String>,
) -> ApiResult<&'static str> {
    let user = ctx.require_user()?.id;
    if let Some(uuid) = input::uuid("device_uuid", device_uuid.as_deref())? {
        super::devices::delete(accounts.0.0.oauth.db(), user, uuid).await?;
    }
    if let Some(token) = crate::auth::bearer_token_of(&headers) {
        accounts.0.0.oauth.revoke_token(token).await.map_err(ApiError::internal)?;
    }
    Ok("Logged out successfully")
}

/// The caller's JSON-visible fields, or `fields` of them (`__all__` for every one).
#[request_handler(path = "getProfile/", name = "getProfile", methods = [GET, POST], body_limit = small_body, tags = ["nets_core_auth"])]
async fn get_profile(
    ctx: Ctx,
    accounts: State<Accounts>,
    #[param(describe = profile_fields, description = "Field names: a list, a JSON-encoded list or comma-separated")]
    fields: Option<Value>,
) -> ApiResult<Profile> {
    let user = ctx.require_user()?.id;
    let wanted = input::requested_fields(fields.as_ref())?;
    if wanted.is_empty() {
        // Every field: the database writes the JSON, sent as it comes.
        let users = &accounts.0.0.users;
        let raw = users.profile_json(accounts.0.0.oauth.db(), user).await?.ok_or(ApiError::NotFound)?;
        return Ok(Profile::Raw(raw));
    }
    let names: Vec<&str> = wanted.iter().map(String::as_str).collect();
    Ok(Profile::Fields(accounts.user_json(user, Some(&names[..])).await?))
}

/// `/getProfile/`'s data: the user's JSON-visible fields (or the ones asked for).
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Profile {
    Raw(Box<serde_json::value::RawValue>),
    Fields(Map<String, Value>),
}

/// The login identifier in this app: an e-mail address, or a username (as
/// `Accounts::identifier` checks them: Django's username rule).
fn identifier_schema(app: &App) -> Option<Value> {
    Some(match app.settings().user_identifier {
        crate::users::Identifier::Email => {
            json!({"type": "string", "format": "email", "minLength": 3, "maxLength": 254})
        }
        crate::users::Identifier::Username => {
            json!({"type": "string", "minLength": 1, "maxLength": 150, "pattern": "^[\\w.@+-]+$"})
        }
    })
}

/// The field names `/getProfile/` shows in this app (`__all__`: every one), as a list
/// (a comma-separated or JSON-encoded string is accepted too).
fn profile_fields(app: &App) -> Option<Value> {
    let users = &app.state::<Accounts>()?.0.users;
    let mut names: Vec<&str> = users.json_fields().collect();
    names.push("__all__");
    Some(json!({"type": "array", "items": {"type": "string", "enum": names}}))
}

/// The keys `/update/` takes in this app: the updatable fields (typed values, or the
/// same JSON-encoded in a string) and the file fields; nothing else.
fn update_fields(app: &App) -> Option<Value> {
    let users = &app.state::<Accounts>()?.0.users;
    let mut properties = Map::new();
    for (name, schema) in users.updatable_schemas() {
        properties.insert(name.to_owned(), schema);
    }
    for name in users.file_fields() {
        properties.insert(name.to_owned(), json!({"type": "string", "contentMediaType": "application/octet-stream"}));
    }
    // Other keys are accepted and ignored (see `update`), so clients may send more.
    Some(json!({"properties": properties}))
}

/// Writes the updatable fields sent and stores the files sent for file fields (JSON, a
/// form or `multipart/form-data`). Keys that are no user field, and read-only fields
/// sent unchanged (a client posting its whole profile back), are ignored and listed in
/// `extra.ignored`; an attempt to change a read-only or prohibited field is a 400 naming
/// it, and nothing is written.
#[request_handler(path = "update/", methods = [POST], body_limit = update_body, tags = ["nets_core_auth"])]
async fn update(
    ctx: Ctx,
    accounts: State<Accounts>,
    #[param(rest, describe = update_fields)] fields: Rest,
) -> ApiResult<Success<Map<String, Value>>> {
    let (user, ignored) = accounts.update(&ctx, fields).await?;
    let answer = Success::new(user);
    // The original's answer exactly, unless something was ignored.
    Ok(if ignored.is_empty() { answer } else { answer.extra(json!({"ignored": ignored})) })
}

/// The account deletion page (for app-store deletion requirements).
#[request_handler(path = "requestDelete/", name = "requestDelete", methods = [GET, POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
async fn request_delete(accounts: State<Accounts>) -> Result<Response, ApiError> {
    accounts.request_page().await
}

/// Deletes the account (and everything it owns) with a one-time code: the bearer
/// token's account, or the identifier's without one.
#[request_handler(path = "delete/", methods = [POST], public, body_limit = small_body, tags = ["nets_core_auth"])]
async fn delete(
    ctx: Ctx,
    accounts: State<Accounts>,
    #[param(description = "Must be true")] sure: Value,
    #[param(secret)] code: String,
    #[param(name_from = identifier, description = "Without a bearer token: the account's identifier")]
    identifier: Option<String>,
    device_uuid: Option<String>,
) -> ApiResult<&'static str> {
    if !input::truthy(&sure) {
        return Err(ApiError::bad_request("Are you sure?"));
    }
    let device_uuid = input::uuid("device_uuid", device_uuid.as_deref())?;
    accounts.delete(&ctx, code.trim(), identifier.as_deref(), device_uuid).await?;
    Ok("Account deleted successfully")
}
