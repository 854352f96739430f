//! Why a push was not sent, classified from FCM's documented error body
//! (`error.status` and `error.details[].errorCode`) rather than from error text (the
//! original matched the string `UnregisteredError`).

use std::time::Duration;

use serde_json::Value;

/// Why a message was not sent. [`reason`](SendError::reason) is the short code recorded
/// on the notification's row (`last_error` starts with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The token no longer reaches a device (`UNREGISTERED`, `SENDER_ID_MISMATCH`, or
    /// `INVALID_ARGUMENT` naming the token): it is cleared from its device.
    #[error("dead_token: {code}: {detail}")]
    DeadToken {
        /// FCM's error code.
        code: String,
        /// FCM's message.
        detail: String,
    },
    /// FCM is overloaded or down (`QUOTA_EXCEEDED`/429, `UNAVAILABLE`/503,
    /// `INTERNAL`/500, a timeout, a refused connection) and the retries allowed in one
    /// attempt ran out; worth trying again later.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The credentials are refused or unusable (`THIRD_PARTY_AUTH_ERROR`, 401, 403, a
    /// bad service-account key): no device will get anything until the configuration is
    /// fixed.
    #[error("config: {0}")]
    Config(String),
    /// `FIREBASE_CONFIG` is not set (outside `DEBUG`).
    #[error("not_configured: FIREBASE_CONFIG is not set")]
    NotConfigured,
    /// The message itself is refused (a reserved data key, too big, another
    /// `INVALID_ARGUMENT`).
    #[error("invalid_message: {0}")]
    InvalidMessage(String),
}

impl SendError {
    /// The short code: `dead_token`, `unavailable`, `config`, `not_configured`,
    /// `invalid_message`.
    pub fn reason(&self) -> &'static str {
        match self {
            SendError::DeadToken { .. } => "dead_token",
            SendError::Unavailable(_) => "unavailable",
            SendError::Config(_) => "config",
            SendError::NotConfigured => "not_configured",
            SendError::InvalidMessage(_) => "invalid_message",
        }
    }

    /// Whether a later attempt may succeed without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SendError::Unavailable(_))
    }
}

/// What one HTTP answer of `messages:send` means.
#[derive(Debug)]
pub(crate) enum Answer {
    /// Retry after this long (from `Retry-After`) or after the backoff.
    Retry { wait: Option<Duration>, why: String },
    /// The access token was refused: fetch a new one once, then it is a config error.
    Unauthenticated(String),
    /// Final.
    Failed(SendError),
}

/// Classifies a non-success answer of `messages:send`.
pub(crate) fn classify(status: u16, retry_after: Option<Duration>, body: &str) -> Answer {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = &parsed["error"];
    let grpc = error["status"].as_str().unwrap_or("");
    let message = error["message"].as_str().unwrap_or("").chars().take(300).collect::<String>();
    let details = error["details"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let fcm_code = details.iter().find_map(|d| d["errorCode"].as_str()).unwrap_or(grpc);
    let names_token = details.iter().any(|d| {
        d["fieldViolations"].as_array().is_some_and(|v| v.iter().any(|f| f["field"].as_str() == Some("message.token")))
    }) || message.to_ascii_lowercase().contains("registration token");
    let detail = if message.is_empty() { format!("HTTP {status}") } else { format!("HTTP {status}: {message}") };

    match fcm_code {
        "UNREGISTERED" | "SENDER_ID_MISMATCH" => {
            return Answer::Failed(SendError::DeadToken { code: fcm_code.to_owned(), detail });
        }
        "INVALID_ARGUMENT" if names_token => {
            return Answer::Failed(SendError::DeadToken { code: fcm_code.to_owned(), detail });
        }
        "INVALID_ARGUMENT" => return Answer::Failed(SendError::InvalidMessage(detail)),
        "QUOTA_EXCEEDED" | "UNAVAILABLE" | "INTERNAL" => {
            return Answer::Retry { wait: retry_after, why: format!("{fcm_code} ({detail})") };
        }
        "THIRD_PARTY_AUTH_ERROR" => return Answer::Failed(SendError::Config(format!("{fcm_code} ({detail})"))),
        _ => {}
    }
    match status {
        401 => Answer::Unauthenticated(detail),
        403 => Answer::Failed(SendError::Config(detail)),
        429 | 500..=599 => Answer::Retry { wait: retry_after, why: detail },
        404 => Answer::Failed(SendError::Config(format!("{detail} (is the project id right?)"))),
        _ => Answer::Failed(SendError::InvalidMessage(detail)),
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn retry_after(value: Option<&str>) -> Option<Duration> {
    let value = value?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Some(wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(status: &str, code: &str) -> String {
        json!({"error": {"code": 400, "message": "m", "status": status,
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]}})
        .to_string()
    }

    #[test]
    fn error_classes_follow_the_documented_codes() {
        assert!(matches!(
            classify(404, None, &body("NOT_FOUND", "UNREGISTERED")),
            Answer::Failed(SendError::DeadToken { .. })
        ));
        assert!(matches!(
            classify(403, None, &body("PERMISSION_DENIED", "SENDER_ID_MISMATCH")),
            Answer::Failed(SendError::DeadToken { .. })
        ));
        assert!(matches!(
            classify(400, None, &body("INVALID_ARGUMENT", "INVALID_ARGUMENT")),
            Answer::Failed(SendError::InvalidMessage(_))
        ));
        let token = json!({"error": {"code": 400, "message": "The registration token is not a valid FCM registration token",
            "status": "INVALID_ARGUMENT", "details": [{"errorCode": "INVALID_ARGUMENT"}]}});
        assert!(matches!(classify(400, None, &token.to_string()), Answer::Failed(SendError::DeadToken { .. })));
        assert!(matches!(classify(429, Some(Duration::from_secs(2)), &body("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")),
            Answer::Retry { wait: Some(w), .. } if w == Duration::from_secs(2)));
        assert!(matches!(classify(503, None, "not json"), Answer::Retry { .. }));
        assert!(matches!(classify(500, None, &body("INTERNAL", "INTERNAL")), Answer::Retry { .. }));
        assert!(matches!(
            classify(401, None, &body("UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR")),
            Answer::Failed(SendError::Config(_))
        ));
        assert!(matches!(classify(401, None, "{}"), Answer::Unauthenticated(_)));
        assert!(matches!(classify(403, None, "{}"), Answer::Failed(SendError::Config(_))));
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(retry_after(Some("3")), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), Some(Duration::ZERO));
        assert_eq!(retry_after(Some("soon")), None);
        assert_eq!(retry_after(None), None);
    }
}
