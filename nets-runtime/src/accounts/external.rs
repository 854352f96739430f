//! Logins proven elsewhere (the social providers): the steps `/authenticate/` takes
//! around its code check, for other login endpoints to take in the same way and order.

use serde_json::{Map, Value, json};

#[cfg(feature = "social")]
use super::devices::{self, DeviceInput};
#[cfg(feature = "social")]
use super::{Accounts, input};
use crate::oauth::Tokens;
#[cfg(feature = "social")]
use crate::oauth::{Application, ClientAuthError};
#[cfg(feature = "social")]
use crate::{ApiError, Ctx};

// The steps are for the social logins; without them, only the answer is shared.
#[cfg(feature = "social")]
impl Accounts {
    /// Counts a login attempt against the client address's budget (`/login/`'s limit).
    pub(crate) async fn limit_login_per_ip(&self, ctx: &Ctx) -> Result<(), ApiError> {
        let client = self.client_key(ctx);
        self.0.limits.login_per_ip.hit(&self.0.cache, &client).await
    }

    /// Authenticates the OAuth client, with `/authenticate/`'s answer when it fails. A
    /// confidential client must send its secret; a public one none.
    pub(crate) async fn authenticate_client(
        &self,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> Result<Application, ApiError> {
        input::limit("client_id", client_id, 256)?;
        if let Some(secret) = client_secret {
            input::limit("client_secret", secret, 256)?;
        }
        let secret = client_secret.filter(|s| !s.is_empty());
        self.0.oauth.authenticate_client(client_id, secret).await.map_err(|e| match e {
            ClientAuthError::Failed => ApiError::bad_request("Invalid client_id or client_secret"),
            ClientAuthError::Db(e) => ApiError::internal(e),
        })
    }

    /// A `device_uuid` parameter, checked as the account endpoints check it.
    pub(crate) fn device_uuid(value: Option<&str>) -> Result<Option<uuid::Uuid>, ApiError> {
        input::uuid("device_uuid", value)
    }

    /// The user table.
    pub(crate) fn users(&self) -> &crate::users::UserTable {
        &self.0.users
    }

    /// Where user uploads are stored (`MEDIA_ROOT`).
    pub(crate) fn storage(&self) -> &crate::uploads::LocalStorage {
        &self.0.storage
    }

    /// Checks a `device` object as `/login/` does, before anything is written.
    pub(crate) fn read_device(&self, device: Option<&Value>) -> Result<Option<DeviceInput>, ApiError> {
        input::object("device", device)?.map(|d| DeviceInput::parse(&d)).transpose()
    }

    /// Finishes a login of `user` through `app`: registers the device (as `/login/`),
    /// issues tokens, sends the new-login e-mail, and answers as `/authenticate/`
    /// (`access_token`, `refresh_token`, `token_expire`, `user`).
    pub(crate) async fn finish_login(
        &self,
        user: i64,
        app: &Application,
        device: Option<DeviceInput>,
    ) -> Result<Value, ApiError> {
        let db = self.0.oauth.db();
        if let Some(input) = device {
            let row = devices::choose(db, Some(user), &input).await?;
            devices::save(db, user, row, &input).await?;
        }
        let tokens = self.0.oauth.generate_tokens(user, app.id, None).await.map_err(ApiError::internal)?;
        let user_json = self.user_json(user, None).await?;
        self.send_new_login(user, &user_json).await;
        Ok(login_answer(&tokens, user_json))
    }
}

/// What a successful login answers (`/authenticate/`, the social logins).
pub(super) fn login_answer(tokens: &Tokens, user: Map<String, Value>) -> Value {
    json!({
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_expire": tokens.token_expire.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "user": user,
    })
}
