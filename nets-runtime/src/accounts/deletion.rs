//! Account deletion: `GET /requestDelete/` (an HTML page for app-store deletion
//! requirements) and `POST /delete/`.
//!
//! The original page could not work (it posted no device, and its code form did
//! nothing) and `/delete/` always failed. Here the page asks `/login/` for a code, then
//! posts the e-mail, the code and `sure` to `/delete/`. `/delete/` takes either a bearer
//! token (apps) or the identifier (the page): in both cases the one-time code, which only
//! the owner of the address receives, is what authorises the deletion.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};

use super::codes::{self, invalid_code};
use super::{Accounts, input, page_policy};
use crate::ApiError;
use crate::oauth::on_pool;

const DEFAULT_TEMPLATE: &str = include_str!("../../templates/nets_core/accounts/delete_account.html");

/// `GET|POST /requestDelete/`: the page, from `NETS_CORE_DELETE_ACCOUNT_TEMPLATE` (a
/// minijinja file) when set, with a strict `Content-Security-Policy` (its inline
/// `<script>` and `<style>` elements allowed by hash, nothing else), `X-Frame-Options:
/// DENY` and `X-Content-Type-Options: nosniff` (see `page_policy`).
pub(super) async fn request_page(State(accounts): State<Accounts>) -> Result<Response, ApiError> {
    let source = match &accounts.0.delete_template {
        Some(path) => tokio::fs::read_to_string(path).await.map_err(ApiError::internal)?,
        None => DEFAULT_TEMPLATE.to_owned(),
    };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    let identifier = accounts.0.users.identifier().column();
    let context = minijinja::context! {
        title => "Delete Account", identifier => identifier, login_url => "../login/", delete_url => "../delete/"
    };
    let html = env.render_str(&source, context).map_err(ApiError::internal)?;
    Ok((page_policy::headers(&html), Html(html)).into_response())
}

/// `POST /delete/`: `sure`, `code` (and `email` without a bearer token) → the account
/// and everything it owns are deleted, its tokens revoked.
pub(super) async fn delete(
    State(accounts): State<Accounts>,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let fields = input::fields(&parts.headers, None, body)?;
    let sure = match fields.get("sure") {
        None | Some(Value::Null) => return Err(ApiError::bad_request("Missing params: sure")),
        Some(value) => truthy(value),
    };
    if !sure {
        return Err(ApiError::bad_request("Are you sure?"));
    }
    let code = input::text(&fields, "code")?.unwrap_or_default();
    let code = code.trim();
    if code.is_empty() {
        return Err(ApiError::bad_request("Invalid code"));
    }
    let device_uuid = input::uuid(&fields, "device_uuid")?;
    let user = if crate::auth::bearer_token(&parts).is_some() {
        let (user, _) = accounts.require_user(&parts).await?;
        accounts.count_code_check(&parts, &format!("user:{user}"), device_uuid).await?;
        if !codes::well_formed(code) {
            return Err(invalid_code());
        }
        codes::consume_for_user(&accounts, user, &accounts.code_digest(user, code), device_uuid).await?;
        user
    } else {
        let column = accounts.0.users.identifier().column();
        let identifier = accounts.normalize_identifier(&input::required(&fields, column, 254)?)?;
        accounts.count_code_check(&parts, &identifier, device_uuid).await?;
        codes::consume(&accounts, &identifier, code, device_uuid, false).await?
    };
    accounts.0.oauth.revoke_user_tokens(user).await.map_err(ApiError::internal)?;
    // Rows the account owns go with it (ON DELETE CASCADE).
    on_pool!(accounts.0.oauth.db(), |pool| sqlx::query("DELETE FROM nets_user WHERE id = $1")
        .bind(user)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    .map_err(ApiError::internal)?;
    Ok(axum::Json(json!({"res": 1, "data": "Account deleted successfully"})).into_response())
}

/// A boolean as clients send it: `true`, `"true"`, `1`, `"1"`, `"yes"`, `"on"`.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64() == Some(1),
        Value::String(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"),
        _ => false,
    }
}
