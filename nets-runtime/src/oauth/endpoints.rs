//! `POST /o/token/` (RFC 6749 §6, refresh grant) and `POST /o/revoke_token/` (RFC 7009),
//! with client authentication (§2.3.1) and §5.2 error bodies.
//!
//! They are `#[request_handler]`s like every endpoint (the pipeline, the route registry,
//! `/openapi.json`), declared with the DSL keys an endpoint that speaks another wire
//! protocol needs: `errors = ..` writes the pipeline's refusals as RFC 6749 errors and
//! `openapi = ..` documents form bodies and RFC answers.

use std::borrow::Cow;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Serialize;

use super::OAuth;
use super::applications::{Application, ClientAuthError};
use super::tokens::{RefreshOutcome, RefreshRefused, Tokens};
use crate::db::DbError;
use crate::{ApiError, App, State, request_handler};

/// Token requests are a few short fields; anything bigger is not one.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// RFC 6749 §5.2 and RFC 7009 §2.2.1 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// Malformed: a missing, repeated or unsupported parameter.
    InvalidRequest,
    /// Client authentication failed (answered with 401).
    InvalidClient,
    /// The refresh token is invalid, expired, revoked, reused or another client's.
    InvalidGrant,
    /// Only `refresh_token` is granted here.
    UnsupportedGrantType,
    /// Tokens carry no scope, so none can be asked for.
    InvalidScope,
    /// Storage trouble (500); the cause is logged, not sent.
    ServerError,
}

/// An OAuth error answer: `{"error": "invalid_grant", "error_description": ".."}`.
#[derive(Debug)]
pub struct TokenError {
    /// The error code.
    pub code: ErrorCode,
    /// A human-readable explanation.
    pub description: Cow<'static, str>,
}

impl TokenError {
    fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> TokenError {
        TokenError { code, description: description.into() }
    }
    fn invalid_request(description: impl Into<Cow<'static, str>>) -> TokenError {
        TokenError::new(ErrorCode::InvalidRequest, description)
    }
    fn invalid_client() -> TokenError {
        TokenError::new(ErrorCode::InvalidClient, "client authentication failed")
    }
    fn not_a_form() -> TokenError {
        TokenError::invalid_request("send the parameters as application/x-www-form-urlencoded")
    }
    fn invalid_grant() -> TokenError {
        TokenError::new(ErrorCode::InvalidGrant, "the refresh token is invalid, expired or revoked")
    }
}

impl From<DbError> for TokenError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "OAuth endpoint storage error");
        TokenError::new(ErrorCode::ServerError, "internal server error")
    }
}

impl From<ClientAuthError> for TokenError {
    fn from(e: ClientAuthError) -> Self {
        match e {
            ClientAuthError::Failed => TokenError::invalid_client(),
            ClientAuthError::Db(e) => e.into(),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorCode,
    error_description: &'a str,
}

/// Token answers must not be cached (RFC 6749 §5.1).
fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let status = match self.code {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = ErrorBody { error: self.code, error_description: &self.description };
        let mut response = (status, axum::Json(body)).into_response();
        if self.code == ErrorCode::InvalidClient {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oauth\""));
        }
        no_store(&mut response);
        response
    }
}

/// `{"access_token", "token_type", "expires_in", "refresh_token", "token_expire"}`.
#[derive(Serialize)]
struct TokenBody<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: &'a str,
    /// nets' clients read the expiry as a timestamp too.
    token_expire: String,
}

/// Token requests are form bodies of a few short fields.
fn form_limit(_: &App) -> usize {
    MAX_FORM_BYTES
}

/// The refresh grant (RFC 6749 §6): a new token pair for a refresh token, which is
/// retired. The client authenticates with HTTP Basic or with `client_id` and
/// `client_secret` in the body, never both (§2.3.1).
#[request_handler(
    path = "o/token/",
    name = "oauth_token",
    method = POST,
    public,
    tags = ["oauth2"],
    summary = "Refresh tokens (RFC 6749 §6)",
    body_limit = form_limit,
    errors = oauth_error,
    openapi = super::openapi::token_operation,
)]
async fn token(
    oauth: State<OAuth>,
    headers: HeaderMap,
    grant_type: String,
    // Checked after the client, so that an unsupported grant is named as such.
    #[param(secret)] refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    #[param(secret)] client_secret: Option<String>,
) -> Response {
    let credentials = Credentials { client_id, client_secret };
    match refresh_grant(&oauth, &headers, grant_type, refresh_token, scope, credentials).await {
        Ok(tokens) => {
            let expires_in = (tokens.token_expire - chrono::Utc::now()).num_seconds().max(0);
            let body = TokenBody {
                access_token: &tokens.access_token,
                token_type: "Bearer",
                expires_in,
                refresh_token: &tokens.refresh_token,
                token_expire: tokens.token_expire.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            };
            let mut response = axum::Json(body).into_response();
            no_store(&mut response);
            response
        }
        Err(e) => e.into_response(),
    }
}

async fn refresh_grant(
    oauth: &OAuth,
    headers: &HeaderMap,
    grant_type: String,
    refresh_token: Option<String>,
    scope: Option<String>,
    credentials: Credentials,
) -> Result<Tokens, TokenError> {
    require_form(headers)?;
    let client = authenticate_client(oauth, headers, credentials).await?;
    if grant_type != "refresh_token" {
        return Err(TokenError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type '{grant_type}' is not supported: use refresh_token"),
        ));
    }
    let refresh_token =
        refresh_token.ok_or_else(|| TokenError::invalid_request("missing parameter 'refresh_token'"))?;
    if scope.is_some() {
        return Err(TokenError::new(ErrorCode::InvalidScope, "tokens carry no scope; omit 'scope'"));
    }
    match oauth.refresh(client.id, &refresh_token).await {
        Ok(tokens) => Ok(tokens),
        Err(RefreshOutcome::Refused(RefreshRefused::Invalid)) => Err(TokenError::invalid_grant()),
        Err(RefreshOutcome::Refused(RefreshRefused::Reused)) => Err(TokenError::new(
            ErrorCode::InvalidGrant,
            "the refresh token was already used: every token of this login is now revoked",
        )),
        Err(RefreshOutcome::Db(e)) => Err(e.into()),
    }
}

/// Revokes an access or refresh token issued to the authenticating client (RFC 7009):
/// 200 whether or not the token existed.
#[request_handler(
    path = "o/revoke_token/",
    name = "oauth_revoke_token",
    method = POST,
    public,
    tags = ["oauth2"],
    summary = "Revoke a token (RFC 7009)",
    body_limit = form_limit,
    errors = oauth_error,
    openapi = super::openapi::revoke_operation,
)]
async fn revoke(
    oauth: State<OAuth>,
    headers: HeaderMap,
    #[param(secret)] token: String,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    #[param(secret)] client_secret: Option<String>,
) -> Response {
    let result = async {
        require_form(&headers)?;
        let client = authenticate_client(&oauth, &headers, Credentials { client_id, client_secret }).await?;
        // The hint only orders the lookups; an unknown hint is ignored (RFC 7009 §2.1).
        let refresh_first = token_type_hint.as_deref() == Some("refresh_token");
        oauth.revoke_for_client(client.id, &token, refresh_first).await?;
        Ok::<_, TokenError>(())
    }
    .await;
    match result {
        // RFC 7009 §2.2: 200 whether or not the token existed.
        Ok(()) => {
            let mut response = StatusCode::OK.into_response();
            no_store(&mut response);
            response
        }
        Err(e) => e.into_response(),
    }
}

/// The pipeline's refusals (a missing, repeated or invalid parameter, a secret in the
/// query string, an oversized body, a wrong method) as RFC 6749 §5.2 errors: the status
/// and headers nets chose, an OAuth body, `Cache-Control: no-store`.
fn oauth_error(error: ApiError) -> Response {
    let (code, description) = match &error {
        ApiError::Unauthorized { .. } => (ErrorCode::InvalidClient, Cow::Borrowed("client authentication failed")),
        ApiError::UnsupportedMediaType(_) => return TokenError::not_a_form().into_response(),
        e if e.status().is_server_error() => (ErrorCode::ServerError, Cow::Borrowed("internal server error")),
        e => (ErrorCode::InvalidRequest, Cow::Owned(e.to_string())),
    };
    let mut response = error.into_response();
    let body = ErrorBody { error: code, error_description: &description };
    *response.body_mut() = axum::body::Body::from(serde_json::to_vec(&body).unwrap_or_default());
    if code == ErrorCode::InvalidClient {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oauth\""));
    }
    no_store(&mut response);
    response
}

/// RFC 6749 §4.1.3 and RFC 7009 §2.1: the parameters travel form-encoded.
fn require_form(headers: &HeaderMap) -> Result<(), TokenError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    match mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        true => Ok(()),
        false => Err(TokenError::not_a_form()),
    }
}

/// The client credentials a form carried.
struct Credentials {
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Client authentication: HTTP Basic (`client_id:client_secret`, each form-encoded) or
/// `client_id`/`client_secret` in the body, never both.
async fn authenticate_client(oauth: &OAuth, headers: &HeaderMap, form: Credentials) -> Result<Application, TokenError> {
    let (client_id, secret) = match headers.get(header::AUTHORIZATION) {
        Some(value) => {
            let (id, secret) = basic_credentials(value).ok_or_else(TokenError::invalid_client)?;
            if form.client_secret.is_some() {
                return Err(TokenError::invalid_request("use one client authentication method, not two"));
            }
            if form.client_id.is_some_and(|body_id| body_id != id) {
                return Err(TokenError::invalid_request("client_id differs from the Authorization header's"));
            }
            (id, Some(secret))
        }
        None => (form.client_id.ok_or_else(TokenError::invalid_client)?, form.client_secret),
    };
    Ok(oauth.authenticate_client(&client_id, secret.as_deref()).await?)
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(value: &HeaderValue) -> Option<(String, String)> {
    let (scheme, encoded) = value.to_str().ok()?.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// Undoes application/x-www-form-urlencoded encoding of one value; `None` when it is not
/// UTF-8 or holds a NUL (no client id or secret does).
fn form_decode(text: &str) -> Option<String> {
    let decoded = crate::request::decode_component(text.as_bytes()).ok()?;
    (!decoded.contains('\0')).then(|| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_base64_of_form_encoded_parts() {
        let header = |raw: &str| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap()
        };
        assert_eq!(basic_credentials(&header("id:secret")), Some(("id".into(), "secret".into())));
        assert_eq!(basic_credentials(&header("a%3Ab:c+d%2B:e")), Some(("a:b".into(), "c d+:e".into())));
        assert_eq!(basic_credentials(&header("no-colon")), None);
        assert_eq!(basic_credentials(&header("a%00b:c")), None, "NUL");
        assert_eq!(basic_credentials(&header("a%FFb:c")), None, "not UTF-8");
        assert_eq!(basic_credentials(&HeaderValue::from_static("Basic !!!")), None);
        assert_eq!(basic_credentials(&HeaderValue::from_static("Bearer abc")), None);
    }
}
