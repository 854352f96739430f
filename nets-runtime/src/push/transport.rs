//! How a message leaves: FCM HTTP v1, a console log in `DEBUG` without credentials, or
//! nothing (not configured, every send recorded as failed). Every HTTP call has a
//! timeout; retryable answers are retried with exponential backoff honouring
//! `Retry-After`, up to the configured limit.

use std::time::Duration;

use serde_json::Value;

use super::error::{Answer, SendError, classify, retry_after};
use super::token::{AccessTokens, without_url};

/// Timeouts and retries of one send.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) backoff: Duration,
    pub(crate) backoff_max: Duration,
}

impl Limits {
    /// The longest one send may take, retries and token refresh included: a claim on a
    /// delivery row lasts at least this long, so no other worker sends it meanwhile.
    pub(crate) fn worst_case(&self) -> Duration {
        let tries = self.max_retries.saturating_add(1);
        // Each try may refresh the token (one more timeout) and then send.
        self.timeout.saturating_mul(tries.saturating_mul(2)) + self.backoff_max.saturating_mul(self.max_retries)
    }
}

/// Where messages go.
pub(crate) enum Transport {
    /// FCM HTTP v1.
    Fcm(Box<Fcm>),
    /// `DEBUG` without credentials: logged and recorded as sent with a generated id.
    Console,
    /// Outside `DEBUG` without credentials: every send fails with `not_configured`.
    NotConfigured,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Fcm(fcm) => write!(f, "Fcm({})", fcm.send_url),
            Transport::Console => f.write_str("Console"),
            Transport::NotConfigured => f.write_str("NotConfigured"),
        }
    }
}

/// The FCM HTTP v1 client of one service account.
pub(crate) struct Fcm {
    pub(crate) tokens: AccessTokens,
    http: reqwest::Client,
    send_url: String,
    limits: Limits,
}

/// The shared HTTP client: rustls with ring (installed as the process's provider once;
/// an already installed provider is kept), HTTP/2 (negotiated by ALPN on https, or
/// spoken from the first byte with `prior_knowledge` for an h2c peer), no redirects.
pub(crate) fn http_client(limits: &Limits, prior_knowledge: bool) -> Result<reqwest::Client, String> {
    crate::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(limits.timeout)
        .timeout(limits.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(90))
        .http2_adaptive_window(true);
    if prior_knowledge {
        builder = builder.http2_prior_knowledge();
    }
    builder.build().map_err(|e| format!("HTTP client: {e}"))
}

impl Fcm {
    pub(crate) fn new(tokens: AccessTokens, http: reqwest::Client, base_url: &str, limits: Limits) -> Fcm {
        let send_url = format!("{}/v1/projects/{}/messages:send", base_url.trim_end_matches('/'), tokens.project_id());
        Fcm { tokens, http, send_url, limits }
    }

    /// Sends one `{"message": ..}` body; the FCM message name on success.
    pub(crate) async fn send(&self, body: &Value) -> Result<String, SendError> {
        let mut retries = 0u32;
        let mut reauthenticated = false;
        loop {
            let (answer, used) = match self.tokens.get().await {
                Ok(token) => match self.post(&token, body).await {
                    Ok(name) => return Ok(name),
                    Err(answer) => (answer, Some(token)),
                },
                Err(SendError::Unavailable(why)) => (Answer::Retry { wait: None, why }, None),
                Err(e) => (Answer::Failed(e), None),
            };
            let answer = match answer {
                Answer::Failed(e) => {
                    if matches!(e, SendError::Config(_)) {
                        tracing::error!(error = %e, "FCM refused nets' credentials: no push is delivered until FIREBASE_CONFIG is fixed");
                    }
                    return Err(e);
                }
                Answer::Retry { wait, why } => (wait, why),
                Answer::Unauthenticated(detail) if !reauthenticated => {
                    // A token revoked or expired early: one fresh token, then it is the
                    // configuration.
                    reauthenticated = true;
                    if let Some(token) = used {
                        self.tokens.invalidate(&token).await;
                    }
                    tracing::warn!(%detail, "FCM refused the access token; fetching a new one");
                    continue;
                }
                Answer::Unauthenticated(detail) => {
                    tracing::error!(%detail, "FCM refused a fresh access token: check the service account's roles");
                    return Err(SendError::Config(detail));
                }
            };
            let (wait, why) = answer;
            if retries >= self.limits.max_retries {
                return Err(SendError::Unavailable(format!("{why} (after {} tries)", retries + 1)));
            }
            let delay = wait.unwrap_or_else(|| backoff(self.limits.backoff, retries));
            if delay > self.limits.backoff_max {
                return Err(SendError::Unavailable(format!("{why} (retry after {}s)", delay.as_secs())));
            }
            tracing::debug!(%why, ?delay, "FCM send retried");
            tokio::time::sleep(delay).await;
            retries += 1;
        }
    }

    /// One POST: the message name, or what the answer means.
    async fn post(&self, token: &str, body: &Value) -> Result<String, Answer> {
        let sent =
            self.http.post(&self.send_url).bearer_auth(token).timeout(self.limits.timeout).json(body).send().await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Err(Answer::Retry { wait: None, why: without_url(&e) }),
        };
        let status = response.status();
        let wait = retry_after(response.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()));
        let text = match response.text().await {
            Ok(text) => text,
            Err(e) => return Err(Answer::Retry { wait: None, why: without_url(&e) }),
        };
        if status.is_success() {
            let parsed: Value = serde_json::from_str(&text).unwrap_or_default();
            return match parsed["name"].as_str() {
                Some(name) if !name.is_empty() => Ok(name.to_owned()),
                _ => Err(Answer::Failed(SendError::InvalidMessage(format!(
                    "FCM answered {status} without a message name"
                )))),
            };
        }
        Err(classify(status.as_u16(), wait, &text))
    }
}

/// `base * 2^retries`, with up to 25% random jitter so workers retrying together spread.
fn backoff(base: Duration, retries: u32) -> Duration {
    let exp = base.saturating_mul(1u32.checked_shl(retries.min(16)).unwrap_or(u32::MAX));
    let jitter = exp.mul_f64(rand::random::<f64>() * 0.25);
    exp + jitter
}
