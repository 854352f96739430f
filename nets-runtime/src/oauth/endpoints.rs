//! `POST /o/token/` (RFC 6749 §6, refresh grant) and `POST /o/revoke_token/` (RFC 7009),
//! with client authentication (§2.3.1) and §5.2 error bodies.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde::Serialize;

use super::OAuth;
use super::applications::{Application, ClientAuthError};
use super::tokens::{RefreshOutcome, RefreshRefused, Tokens};
use crate::db::DbError;

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
    /// The HTTP status when not the code's usual one (413 for an oversized body).
    status: Option<StatusCode>,
}

impl TokenError {
    fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> TokenError {
        TokenError { code, description: description.into(), status: None }
    }
    fn invalid_request(description: impl Into<Cow<'static, str>>) -> TokenError {
        TokenError::new(ErrorCode::InvalidRequest, description)
    }
    fn invalid_client() -> TokenError {
        TokenError::new(ErrorCode::InvalidClient, "client authentication failed")
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
        let status = self.status.unwrap_or(match self.code {
            ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        });
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

impl OAuth {
    /// The OAuth endpoints, `POST /o/token/` and `POST /o/revoke_token/` (with and
    /// without the trailing slash), as an axum router. Installing OAuth serves them;
    /// mount them yourself with [`Routes::axum`](crate::routing::Routes::axum).
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/o/token/", post(token))
            .route("/o/token", post(token))
            .route("/o/revoke_token/", post(revoke))
            .route("/o/revoke_token", post(revoke))
            .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
            .with_state(self.clone())
    }
}

/// Parameters these endpoints read from the body only: a query string is logged by
/// proxies and servers, so secrets sent there are refused rather than ignored.
const BODY_ONLY: &[&str] = &["client_secret", "refresh_token", "token", "code", "access_token"];

/// `invalid_request` naming the first [`BODY_ONLY`] parameter of the query string.
fn refuse_query_secrets(uri: &Uri) -> Result<(), TokenError> {
    let Some(query) = uri.query() else { return Ok(()) };
    match form_urlencoded::parse(query.as_bytes()).find(|(key, _)| BODY_ONLY.contains(&key.as_ref())) {
        Some((key, _)) => Err(TokenError::invalid_request(format!(
            "parameter '{key}' must be sent in the request body, never in the URL"
        ))),
        None => Ok(()),
    }
}

/// The body, or an OAuth-shaped error when it is too large or unreadable.
fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, TokenError> {
    body.map_err(|e| {
        let mut error = TokenError::invalid_request(format!("unreadable request body: {}", e.body_text()));
        error.status = Some(e.status());
        error
    })
}

async fn token(
    State(oauth): State<OAuth>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Err(e) = refuse_query_secrets(&uri) {
        return e.into_response();
    }
    let body = match read_body(body) {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    match refresh_grant(&oauth, &headers, &body).await {
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

async fn refresh_grant(oauth: &OAuth, headers: &HeaderMap, body: &[u8]) -> Result<Tokens, TokenError> {
    let form = parse_form(headers, body)?;
    let grant_type =
        form.get("grant_type").ok_or_else(|| TokenError::invalid_request("missing parameter 'grant_type'"))?;
    let client = authenticate_client(oauth, headers, &form).await?;
    if *grant_type != "refresh_token" {
        return Err(TokenError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type '{grant_type}' is not supported: use refresh_token"),
        ));
    }
    let refresh_token =
        form.get("refresh_token").ok_or_else(|| TokenError::invalid_request("missing parameter 'refresh_token'"))?;
    if form.contains_key("scope") {
        return Err(TokenError::new(ErrorCode::InvalidScope, "tokens carry no scope; omit 'scope'"));
    }
    match oauth.refresh(client.id, refresh_token).await {
        Ok(tokens) => Ok(tokens),
        Err(RefreshOutcome::Refused(RefreshRefused::Invalid)) => Err(TokenError::invalid_grant()),
        Err(RefreshOutcome::Refused(RefreshRefused::Reused)) => Err(TokenError::new(
            ErrorCode::InvalidGrant,
            "the refresh token was already used: every token of this login is now revoked",
        )),
        Err(RefreshOutcome::Db(e)) => Err(e.into()),
    }
}

async fn revoke(
    State(oauth): State<OAuth>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        refuse_query_secrets(&uri)?;
        let body = read_body(body)?;
        let form = parse_form(&headers, &body)?;
        let client = authenticate_client(&oauth, &headers, &form).await?;
        let token = form.get("token").ok_or_else(|| TokenError::invalid_request("missing parameter 'token'"))?;
        // The hint only orders the lookups; an unknown hint is ignored (RFC 7009 §2.1).
        let refresh_first = form.get("token_type_hint").is_some_and(|h| *h == "refresh_token");
        oauth.revoke_for_client(client.id, token, refresh_first).await?;
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

/// The form body. Repeated parameters are an error (RFC 6749 §3.2); empty ones count as
/// absent (§3.1).
fn parse_form<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<HashMap<Cow<'a, str>, Cow<'a, str>>, TokenError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(TokenError::invalid_request("send the parameters as application/x-www-form-urlencoded"));
    }
    let mut form = HashMap::new();
    // Decoded strictly, like every form nets reads: bytes that are not UTF-8 are refused.
    for pair in crate::request::form_pairs(body, "form body") {
        let (key, value) = pair.map_err(|e| TokenError::invalid_request(e.to_string()))?;
        // PostgreSQL cannot store U+0000 (it would be a 500); no parameter here has one.
        if key.contains('\0') || value.contains('\0') {
            let name = key.replace('\0', "\\0");
            return Err(TokenError::invalid_request(format!(
                "invalid value for parameter '{name}': {}",
                crate::params::NUL_PROBLEM
            )));
        }
        if value.is_empty() {
            continue;
        }
        if form.contains_key(&key) {
            return Err(TokenError::invalid_request(format!("parameter '{key}' is repeated")));
        }
        form.insert(key, value);
    }
    Ok(form)
}

/// Client authentication: HTTP Basic (`client_id:client_secret`, each form-encoded) or
/// `client_id`/`client_secret` in the body, never both.
async fn authenticate_client(
    oauth: &OAuth,
    headers: &HeaderMap,
    form: &HashMap<Cow<'_, str>, Cow<'_, str>>,
) -> Result<Application, TokenError> {
    let (client_id, secret) = match headers.get(header::AUTHORIZATION) {
        Some(value) => {
            let (id, secret) = basic_credentials(value).ok_or_else(TokenError::invalid_client)?;
            if form.contains_key("client_secret") {
                return Err(TokenError::invalid_request("use one client authentication method, not two"));
            }
            if form.get("client_id").is_some_and(|body_id| *body_id != id) {
                return Err(TokenError::invalid_request("client_id differs from the Authorization header's"));
            }
            (Cow::Owned(id), Some(Cow::Owned(secret)))
        }
        None => {
            let id = form.get("client_id").ok_or_else(TokenError::invalid_client)?;
            (id.clone(), form.get("client_secret").cloned())
        }
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
