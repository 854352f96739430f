//! The Google service account from `FIREBASE_CONFIG`: a file path or the JSON itself, as
//! in the original (§11.1). The private key never appears in `Debug` or in errors.

use std::path::Path;

use serde::Deserialize;

use super::PushError;

/// Google's token endpoint, used when the service account names none.
const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// The fields of a service-account JSON file that sending needs.
#[derive(Clone, Deserialize)]
pub(crate) struct ServiceAccount {
    pub(crate) project_id: String,
    pub(crate) client_email: String,
    pub(crate) private_key: String,
    #[serde(default)]
    pub(crate) private_key_id: Option<String>,
    #[serde(default = "default_token_uri")]
    pub(crate) token_uri: String,
}

fn default_token_uri() -> String {
    DEFAULT_TOKEN_URI.to_owned()
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccount {
    /// Reads `FIREBASE_CONFIG`'s value: JSON when it starts with `{`, else a file path.
    /// `None` when it is empty.
    pub(crate) fn from_config(value: &str) -> Result<Option<ServiceAccount>, PushError> {
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        let (json, source) = if value.starts_with('{') {
            (value.to_owned(), "the FIREBASE_CONFIG JSON".to_owned())
        } else {
            let path = Path::new(value);
            let text = std::fs::read_to_string(path)
                .map_err(|e| PushError::Config(format!("FIREBASE_CONFIG file {}: {e}", path.display())))?;
            (text, format!("FIREBASE_CONFIG file {}", path.display()))
        };
        // serde_json's message names the line and column, never the value.
        let account: ServiceAccount = serde_json::from_str(&json)
            .map_err(|e| PushError::Config(format!("{source} is not a service-account JSON: {e}")))?;
        for (name, field) in [
            ("project_id", &account.project_id),
            ("client_email", &account.client_email),
            ("private_key", &account.private_key),
            ("token_uri", &account.token_uri),
        ] {
            if field.trim().is_empty() {
                return Err(PushError::Config(format!("{source}: `{name}` is empty")));
            }
        }
        if !account
            .project_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' || b == b':')
        {
            return Err(PushError::Config(format!("{source}: `project_id` is not a project id")));
        }
        Ok(Some(account))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_or_path_and_never_the_key_in_errors_or_debug() {
        let json =
            r#"{"project_id": "p1", "client_email": "a@p1.iam.gserviceaccount.com", "private_key": "SECRET-KEY"}"#;
        let account = ServiceAccount::from_config(json).unwrap().unwrap();
        assert_eq!(account.token_uri, DEFAULT_TOKEN_URI);
        assert!(!format!("{account:?}").contains("SECRET-KEY"));
        assert!(ServiceAccount::from_config("  ").unwrap().is_none());
        let err = ServiceAccount::from_config("/nonexistent/sa.json").unwrap_err().to_string();
        assert!(err.contains("/nonexistent/sa.json"), "{err}");
        let err = ServiceAccount::from_config(r#"{"project_id": "p", "private_key": "SECRET-KEY"}"#).unwrap_err();
        assert!(!err.to_string().contains("SECRET-KEY"), "{err}");
        let bad = r#"{"project_id": "p/../x", "client_email": "a", "private_key": "k"}"#;
        assert!(ServiceAccount::from_config(bad).is_err());
    }
}
