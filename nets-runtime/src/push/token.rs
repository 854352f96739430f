//! OAuth 2.0 access tokens for the FCM API (RFC 7523 JWT-bearer grant): a signed
//! assertion exchanged at the service account's `token_uri`, cached until shortly before
//! it expires, and refreshed once for all concurrent senders.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::credentials::ServiceAccount;
use super::error::SendError;

/// The scope FCM HTTP v1 requires.
pub(crate) const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Assertions live one hour, Google's maximum.
const ASSERTION_LIFETIME_SECS: u64 = 3600;
/// Refresh this long before expiry at most (less for tokens that live less than twice as
/// long), so no send carries a token that expires in flight.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

struct Cached {
    token: Arc<str>,
    refresh_at: Instant,
}

/// Access tokens of one service account.
pub(crate) struct AccessTokens {
    account: ServiceAccount,
    key: EncodingKey,
    http: reqwest::Client,
    timeout: Duration,
    /// The lock is held across a fetch: concurrent senders wait for that one fetch
    /// instead of each exchanging an assertion (single flight).
    cache: Mutex<Option<Cached>>,
    fetches: AtomicU64,
}

impl AccessTokens {
    /// Fails when the service account's key is not an RSA private key in PEM.
    pub(crate) fn new(account: ServiceAccount, http: reqwest::Client, timeout: Duration) -> Result<Self, String> {
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|e| format!("the service account's private_key is not an RSA key in PEM: {e}"))?;
        Ok(AccessTokens { account, key, http, timeout, cache: Mutex::new(None), fetches: AtomicU64::new(0) })
    }

    pub(crate) fn project_id(&self) -> &str {
        &self.account.project_id
    }

    /// Assertions exchanged so far (for tests and metrics).
    pub(crate) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A valid access token: the cached one, or a new one fetched once for everybody
    /// waiting.
    pub(crate) async fn get(&self) -> Result<Arc<str>, SendError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        let fetched = self.fetch().await?;
        let token = fetched.token.clone();
        *cache = Some(fetched);
        Ok(token)
    }

    /// Forgets `stale` (refused by FCM) unless another sender already replaced it.
    pub(crate) async fn invalidate(&self, stale: &str) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| &*c.token == stale) {
            *cache = None;
        }
    }

    async fn fetch(&self) -> Result<Cached, SendError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: &self.account.client_email,
            scope: FCM_SCOPE,
            aud: &self.account.token_uri,
            iat: now,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.account.private_key_id.clone();
        let assertion = jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| SendError::Config(format!("signing the service-account assertion: {e}")))?;
        let started = Instant::now();
        let answer = self
            .http
            .post(&self.account.token_uri)
            .timeout(self.timeout)
            .form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", &assertion)])
            .send()
            .await
            .map_err(|e| SendError::Unavailable(format!("token endpoint: {}", without_url(&e))))?;
        let status = answer.status();
        let body =
            answer.text().await.map_err(|e| SendError::Unavailable(format!("token endpoint: {}", without_url(&e))))?;
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(SendError::Unavailable(format!("token endpoint answered {status}")));
        }
        if !status.is_success() {
            // RFC 6749 §5.2 `error`/`error_description` only: never echo the whole body.
            let parsed: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let error = parsed["error"].as_str().unwrap_or("unknown");
            let description = parsed["error_description"].as_str().unwrap_or("");
            tracing::error!(%status, error, description, client_email = %self.account.client_email,
                "FCM: the token endpoint refused the service account's assertion");
            return Err(SendError::Config(format!("token endpoint answered {status}: {error} {description}")));
        }
        let answer: TokenAnswer = serde_json::from_str(&body)
            .map_err(|e| SendError::Unavailable(format!("token endpoint answer is not a token: {e}")))?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        Ok(Cached { token: answer.access_token.into(), refresh_at: started + lifetime.saturating_sub(margin) })
    }
}

/// A reqwest error as text for logs and rows: its kind and cause, the URL replaced (a
/// token endpoint URL is harmless, but one shape for every error keeps rows comparable).
/// reqwest errors never carry bodies or headers, so nothing secret is in it.
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    use std::error::Error;
    if e.is_timeout() {
        return "timed out".to_owned();
    }
    if e.is_connect() {
        return "connection refused or unreachable".to_owned();
    }
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    match e.source() {
        Some(source) => format!("{text}: {source}"),
        None => text,
    }
}
