//! The HTTP handlers: read the fields, call [`Accounts`], answer the original's envelope.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Accounts, devices, input};
use crate::ApiError;

type Reply = Result<Response, ApiError>;

fn ok(data: Value) -> Reply {
    Ok(Json(json!({"res": 1, "data": data})).into_response())
}

impl Accounts {
    pub(super) fn client_ip(&self, parts: &Parts) -> Option<std::net::IpAddr> {
        self.0.trusted_proxies.client_ip_of(parts)
    }

    /// The client's rate-limit key: its address (IPv6: its /64). Without one (a server
    /// run without connect info) every such client shares one key, so the per-address
    /// limits hold for all of them together instead of switching off; warned once.
    pub(super) fn client_key(&self, parts: &Parts) -> String {
        match self.client_ip(parts) {
            Some(ip) => crate::client_ip::rate_limit_key(ip),
            None => {
                static WARNED: std::sync::Once = std::sync::Once::new();
                WARNED.call_once(|| {
                    tracing::warn!(
                        "accounts: no client address (serve with connect info, as nets_runtime::serve does): \
                         every client shares one per-address login and code-check budget"
                    );
                });
                "no-client-address".to_owned()
            }
        }
    }

    /// Counts a code check of `account` (an identifier, or `user:<id>`) from `device`
    /// against the per-account caps and the client's per-address limit.
    pub(super) async fn count_code_check(
        &self,
        parts: &Parts,
        account: &str,
        device: Option<uuid::Uuid>,
    ) -> Result<(), ApiError> {
        let limits = &self.0.limits;
        let cache = &self.0.cache;
        limits.code_checks_per_ip.hit(cache, &self.client_key(parts)).await?;
        // Per device: guesses without the owner's device never block the owner's own.
        let key = format!("{account}|{}", device.map(|d| d.to_string()).unwrap_or_default());
        limits.code_checks_per_account_hour.hit(cache, &key).await?;
        limits.code_checks_per_account_day.hit(cache, &key).await
    }

    /// The user of the bearer token, or 401.
    pub(super) async fn require_user(&self, parts: &Parts) -> Result<(i64, String), ApiError> {
        let Some(token) = crate::auth::bearer_token(parts) else {
            return Err(ApiError::Unauthorized { challenge: None });
        };
        // The same lookup as `BearerAuth`'s, through the token cache when it is on.
        match self.0.oauth.access_token_user(token).await.map_err(ApiError::internal)? {
            Some(user) => Ok((user.id, token.to_owned())),
            None => Err(crate::oauth::invalid_token()),
        }
    }
}

/// `POST /authenticate/`: identifier, `code`, `client_id`, `client_secret`,
/// `device_uuid` → tokens and the user.
pub(super) async fn authenticate(
    State(accounts): State<Accounts>,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let fields = input::fields(&parts.headers, parts.uri.query(), body)?;
    let column = accounts.0.users.identifier().column();
    let identifier = input::required(&fields, column, 254)?;
    let code = input::required(&fields, "code", 32)?;
    let client_id = input::required(&fields, "client_id", 256)?;
    let client_secret = input::required(&fields, "client_secret", 256)?;
    let device_uuid = input::uuid(&fields, "device_uuid")?;
    let account = accounts.normalize_identifier(&identifier)?;
    accounts.count_code_check(&parts, &account, device_uuid).await?;
    let (user, tokens) = accounts.authenticate(&identifier, &code, &client_id, &client_secret, device_uuid).await?;
    let user_json = accounts.user_json(user, None).await?;
    accounts.send_new_login(user, &user_json).await;
    ok(json!({
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_expire": tokens.token_expire.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "user": user_json,
    }))
}

/// `POST /logout/`: revokes the presented token's login; deletes the device
/// `device_uuid` when sent.
pub(super) async fn logout(
    State(accounts): State<Accounts>,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (user, token) = accounts.require_user(&parts).await?;
    let fields = input::fields(&parts.headers, parts.uri.query(), body)?;
    let device = input::uuid(&fields, "device_uuid")?;
    if let Some(uuid) = device {
        devices::delete(accounts.0.oauth.db(), user, uuid).await?;
    }
    accounts.0.oauth.revoke_token(&token).await.map_err(ApiError::internal)?;
    ok(json!("Logged out successfully"))
}

/// `GET|POST /getProfile/`: the user's JSON-visible fields, or `fields` of them.
pub(super) async fn profile(
    State(accounts): State<Accounts>,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (user, _) = accounts.require_user(&parts).await?;
    let fields = input::fields(&parts.headers, parts.uri.query(), body)?;
    let wanted = requested_fields(fields.get("fields"))?;
    let names: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let data = accounts.user_json(user, (!names.is_empty()).then_some(&names[..])).await?;
    ok(Value::Object(data))
}

/// `fields` as a JSON array, a JSON-encoded array, or a comma-separated string.
fn requested_fields(value: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let bad = || ApiError::field("fields", "must be a list of field names");
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.clone(),
        Some(Value::String(s)) if s.trim_start().starts_with('[') => match serde_json::from_str(s) {
            Ok(Value::Array(items)) => items,
            _ => return Err(bad()),
        },
        Some(Value::String(s)) => {
            s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect()
        }
        Some(_) => return Err(bad()),
    };
    if list.len() > 100 {
        return Err(bad());
    }
    list.into_iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(bad)).collect()
}
