//! GitHub: a token is accepted only when GitHub says it belongs to this OAuth app
//! (`POST /applications/{client_id}/token`, authenticated with the app's own client id
//! and secret); the address is the account's primary one, vouched for only when GitHub
//! verified it (the original fell back to the first address, verified or not).

use serde::Deserialize;
use serde_json::Value;

use super::{Identity, SocialError, provider_json};
use crate::Settings;

pub(crate) struct Github {
    http: reqwest::Client,
    api: String,
    client_id: String,
    client_secret: String,
}

#[derive(Deserialize)]
struct Email {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

impl Github {
    pub(crate) fn from_settings(settings: &Settings, http: reqwest::Client) -> Github {
        Github {
            http,
            api: settings.github_api_url.trim_end_matches('/').to_owned(),
            client_id: settings.github_client_id.trim().to_owned(),
            client_secret: settings.github_client_secret.expose().to_owned(),
        }
    }

    pub(crate) fn check_configured(&self) -> Result<(), SocialError> {
        match self.client_id.is_empty() || self.client_secret.is_empty() {
            true => Err(SocialError::NotConfigured("GitHub")),
            false => Ok(()),
        }
    }

    pub(crate) async fn verify(&self, token: &str) -> Result<Identity, SocialError> {
        self.check_configured()?;
        // Only the client id's `/`-free form can be a path segment.
        if self.client_id.contains('/') {
            return Err(SocialError::NotConfigured("GitHub"));
        }
        let url = format!("{}/applications/{}/token", self.api, self.client_id);
        let check = self
            .http
            .post(url)
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .json(&serde_json::json!({"access_token": token}));
        let owned: Option<Value> = read(check).await?;
        if owned.is_none() {
            return Err(SocialError::WrongAudience);
        }
        let user: Value = read(self.authorized("user", token))
            .await?
            .ok_or_else(|| SocialError::Invalid("GitHub refused the token".into()))?;
        let emails: Vec<Email> = read(self.authorized("user/emails", token)).await?.unwrap_or_default();
        let id = match user.get("id") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(SocialError::Invalid("GitHub sent no user id".into())),
        };
        // The primary address; vouched for only when GitHub verified it (an unverified one
        // never links to an existing account).
        let primary = emails.iter().find(|e| e.primary);
        let email = primary.map(|e| e.email.trim().to_lowercase());
        let verified = primary.is_some_and(|e| e.verified);
        let name = user.get("name").and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty());
        let (first, last) = match name.map(|n| n.split_once(' ').unwrap_or((n, ""))) {
            Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned()).filter(|l| !l.is_empty())),
            None => (None, None),
        };
        let picture = user.get("avatar_url").and_then(Value::as_str).map(str::to_owned);
        Ok(Identity {
            subject: id,
            email_verified: verified,
            email,
            first_name: first,
            last_name: last,
            picture,
            profile: user,
        })
    }

    fn authorized(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}/{path}", self.api))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
    }
}

/// GitHub refuses a credential with 401, 403, 404 or 422.
async fn read<T: serde::de::DeserializeOwned>(request: reqwest::RequestBuilder) -> Result<Option<T>, SocialError> {
    provider_json(request, |status| matches!(status.as_u16(), 401 | 403 | 404 | 422)).await
}
