//! Facebook Login: a user access token is accepted only when Facebook says it was
//! issued to this app (`debug_token` with the app access token `app_id|app_secret`;
//! the original accepted tokens minted for any app), and the profile is read with
//! `appsecret_proof` (HMAC-SHA256 of the token under the app secret), so a stolen
//! token cannot be replayed through another app's server.

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use super::{Identity, SocialError, provider_json};
use crate::Settings;
use crate::keys::hex;

pub(crate) struct Facebook {
    http: reqwest::Client,
    graph: String,
    app_id: String,
    app_secret: String,
}

#[derive(Deserialize)]
struct Debug {
    data: DebugData,
}

#[derive(Deserialize)]
struct DebugData {
    #[serde(default)]
    is_valid: bool,
    app_id: Option<String>,
    user_id: Option<String>,
}

impl Facebook {
    pub(crate) fn from_settings(settings: &Settings, http: reqwest::Client) -> Facebook {
        Facebook {
            http,
            graph: settings.facebook_graph_url.trim_end_matches('/').to_owned(),
            app_id: settings.facebook_app_id.trim().to_owned(),
            app_secret: settings.facebook_app_secret.expose().to_owned(),
        }
    }

    pub(crate) fn check_configured(&self) -> Result<(), SocialError> {
        match self.app_id.is_empty() || self.app_secret.is_empty() {
            true => Err(SocialError::NotConfigured("Facebook")),
            false => Ok(()),
        }
    }

    pub(crate) async fn verify(&self, token: &str) -> Result<Identity, SocialError> {
        self.check_configured()?;
        let app_token = format!("{}|{}", self.app_id, self.app_secret);
        let debug: Debug = self
            .get("debug_token", &[("input_token", token), ("access_token", &app_token)])
            .await?
            .ok_or_else(|| SocialError::Invalid("Facebook refused the token".into()))?;
        let data = debug.data;
        if !data.is_valid {
            return Err(SocialError::Invalid("Facebook says it is not valid".into()));
        }
        if data.app_id.as_deref() != Some(self.app_id.as_str()) {
            return Err(SocialError::WrongAudience);
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(self.app_secret.as_bytes())
            .map_err(|_| SocialError::NotConfigured("Facebook"))?;
        mac.update(token.as_bytes());
        let proof = hex(&mac.finalize().into_bytes());
        let fields = "id,name,first_name,last_name,email,picture";
        let profile: Value = self
            .get("me", &[("fields", fields), ("access_token", token), ("appsecret_proof", &proof)])
            .await?
            .ok_or_else(|| SocialError::Invalid("Facebook refused the profile request".into()))?;
        let id = profile.get("id").and_then(Value::as_str).unwrap_or_default();
        if id.is_empty() || data.user_id.as_deref() != Some(id) {
            return Err(SocialError::Invalid("the profile is not the token's user".into()));
        }
        let text = |key: &str| profile.get(key).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty());
        let email = text("email").map(str::to_lowercase);
        Ok(Identity {
            subject: id.to_owned(),
            // Facebook only returns an address its user has confirmed.
            email_verified: email.is_some(),
            email,
            first_name: text("first_name").or(text("name")).map(str::to_owned),
            last_name: text("last_name").map(str::to_owned),
            picture: profile.pointer("/picture/data/url").and_then(Value::as_str).map(str::to_owned),
            profile,
        })
    }

    /// `GET {graph}/{path}`: Facebook refuses a credential with a 4xx and an `error`.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Option<T>, SocialError> {
        let request = self.http.get(format!("{}/{path}", self.graph)).query(query);
        provider_json(request, |status| status.is_client_error()).await
    }
}
