//! Social login: the original's `loginWithGoogle…/`, `loginWithApple/`,
//! `loginWithFacebook/`, `loginWithMicrosoft/` and `loginWithGithub/` (§9), with the wire
//! contract kept and every verification strict.
//!
//! Every endpoint takes `token`, `client_id`, `client_secret` (none for a public client)
//! and an optional `device` (as `/login/`), and answers as `/authenticate/` does. In the
//! web-app flow the Google, Microsoft, Facebook and GitHub endpoints take `code`,
//! `redirect_uri` and `code_verifier` instead of `token`, and nets exchanges the code
//! itself (`exchange`). In this order, for every provider:
//!
//! 1. the client address's login budget is counted (`/login/`'s limit);
//! 2. **the OAuth client is authenticated** (the original did this last, after creating
//!    users): a wrong one is `/authenticate/`'s 400, and the provider is never called;
//! 3. the provider credential is verified:
//!    * Google, Apple, Microsoft: an ID token, RS256 only, signed by a key of the
//!      provider's JWKS (cached by `max-age`, refetched once for an unknown key id),
//!      issued by the provider (Microsoft: for the token's tenant, fitting
//!      `MICROSOFT_TENANT`) **to one of this app's client ids**, not expired, and for
//!      Apple bound to the `nonce` the client sends;
//!    * Facebook: the token must belong to `FACEBOOK_APP_ID` (`debug_token` with the app
//!      token), the profile is read with `appsecret_proof`; a Limited Login ID token
//!      (iOS) is verified like the ID tokens above, against Facebook's JWKS;
//!    * GitHub: the token must belong to `GITHUB_CLIENT_ID` (`POST
//!      /applications/{client_id}/token` with the app's credentials), the address is the
//!      **primary, verified** one;
//! 4. the account: the one already linked to (provider, subject); else, when the
//!    provider vouches for the address, the account with that address, or a new one;
//!    else (`NETS_CORE_SOCIAL_UNVERIFIED_EMAIL`) a refusal telling the user to log in
//!    with an e-mail code instead (`refuse`, the default), or a new unverified account
//!    when nobody has the address (`create`; a code login of the address's owner later
//!    removes such identities). An unverified address never links to an existing
//!    account. Names (at most 150 characters) fill `first_name`/`last_name` only while
//!    they are empty. A token bound to a nonce needs the client's nonce;
//! 5. an inactive account is refused; then device, tokens and the new-login e-mail as
//!    `/authenticate/`.
//!
//! An account's owner links an identity of theirs to it with `POST /linkSocial/`
//! (`provider`, the credential as the login endpoint takes it, verified the same way,
//! and a one-time `verification_code` from `/login/` proving the account, as for
//! `/delete/`: the bearer token's account or the identifier's): the way in for an
//! identity refused with `email_not_verified`, since the owner's word replaces the
//! provider's. Such a link survives the code login that removes unvouched ones; an
//! identity linked to another account is refused (`identity_in_use`). A signed-in user
//! removes one with `POST /unlinkSocial/` (`provider`).
//!
//! Refusals are 400 `{"res": 0, "message": .., "data": null, "code": ..}` with a stable
//! `code` (`provider_not_configured`, `invalid_token`, `token_expired`,
//! `wrong_audience`, `wrong_issuer`, `email_not_verified`, `no_email`,
//! `account_inactive`); a provider that cannot be reached, is slow (every call has
//! `NETS_CORE_SOCIAL_TIMEOUT_SECONDS`) or answers nonsense is a 503 with code
//! `provider_unavailable`. Never a 500.

mod avatar;
mod endpoints;
mod exchange;
mod facebook;
mod github;
mod jwks;
mod link;
mod oidc;

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use crate::accounts::Accounts;
use crate::{ApiError, AppBuilder, Settings};

pub use avatar::SocialAvatar;
pub use link::UnverifiedEmail;

/// The providers, as stored in `nets_social_account.provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provider {
    /// Google (ID tokens).
    Google,
    /// Sign in with Apple (ID tokens).
    Apple,
    /// Facebook Login (user access tokens of this app).
    Facebook,
    /// The Microsoft identity platform (ID tokens).
    Microsoft,
    /// GitHub (OAuth app tokens).
    Github,
}

impl Provider {
    /// The stored name: `google`, `apple`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Apple => "apple",
            Provider::Facebook => "facebook",
            Provider::Microsoft => "microsoft",
            Provider::Github => "github",
        }
    }

    /// The provider stored as `name` (see [`as_str`](Self::as_str)).
    pub(crate) fn from_name(name: &str) -> Option<Provider> {
        [Provider::Google, Provider::Apple, Provider::Facebook, Provider::Microsoft, Provider::Github]
            .into_iter()
            .find(|p| p.as_str() == name)
    }

    /// The display name in messages.
    fn title(self) -> &'static str {
        match self {
            Provider::Google => "Google",
            Provider::Apple => "Apple",
            Provider::Facebook => "Facebook",
            Provider::Microsoft => "Microsoft",
            Provider::Github => "GitHub",
        }
    }
}

/// Who the provider says the user is.
#[derive(Debug, Clone, Default)]
pub(crate) struct Identity {
    /// The provider's stable id of the user (`sub`, Facebook/GitHub `id`).
    pub subject: String,
    /// The address, lower-cased.
    pub email: Option<String>,
    /// Whether the provider vouches that the user controls `email`.
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The profile picture's URL.
    pub picture: Option<String>,
    /// The profile as the provider sent it (stored with the link).
    pub profile: serde_json::Value,
}

/// Why a provider credential was refused, or could not be checked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SocialError {
    #[error("{0} login is not configured on this server")]
    NotConfigured(&'static str),
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("the token has expired")]
    Expired,
    #[error("the token was not issued to this application")]
    WrongAudience,
    #[error("the token was not issued by the provider")]
    WrongIssuer,
    #[error("invalid token: signed with an unknown key")]
    UnknownKey,
    #[error("the provider could not be reached: {0}")]
    Unavailable(String),
}

/// Sends a call to a provider's API: the JSON body of a success, `Ok(None)` for the
/// provider's refusal of the user's credential (`refusal(status)`), `Unavailable` when it
/// is throttling this app (429, or 403 with no requests left) or answers anything else.
async fn provider_json<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
    refusal: fn(StatusCode) -> bool,
) -> Result<Option<T>, SocialError> {
    let response = request.send().await.map_err(SocialError::unreachable)?;
    let status = response.status();
    let exhausted = response.headers().get("x-ratelimit-remaining").is_some_and(|left| left == "0");
    if status == StatusCode::TOO_MANY_REQUESTS || (status == StatusCode::FORBIDDEN && exhausted) {
        return Err(SocialError::Unavailable("it is rate-limiting this app".into()));
    }
    if refusal(status) {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(SocialError::Unavailable(format!("it answered {status}")));
    }
    response
        .json()
        .await
        .map(Some)
        .map_err(|_| SocialError::Unavailable("it answered something that is not its JSON".into()))
}

impl SocialError {
    fn unreachable(e: reqwest::Error) -> SocialError {
        let why =
            if e.is_timeout() { "it did not answer in time".to_owned() } else { "the connection failed".to_owned() };
        SocialError::Unavailable(why)
    }

    fn into_api(self, provider: Provider) -> ApiError {
        let (status, code) = match &self {
            SocialError::NotConfigured(_) => (StatusCode::BAD_REQUEST, "provider_not_configured"),
            SocialError::Invalid(_) | SocialError::UnknownKey => (StatusCode::BAD_REQUEST, "invalid_token"),
            SocialError::Expired => (StatusCode::BAD_REQUEST, "token_expired"),
            SocialError::WrongAudience => (StatusCode::BAD_REQUEST, "wrong_audience"),
            SocialError::WrongIssuer => (StatusCode::BAD_REQUEST, "wrong_issuer"),
            SocialError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "provider_unavailable"),
        };
        let message = match self {
            SocialError::NotConfigured(_) => self.to_string(),
            other => format!("{}: {other}", provider.title()),
        };
        ApiError::coded(status, code, message)
    }
}

/// The social login endpoints with their provider configuration. Install it with
/// [`AppBuilder::install`] (the [`Stack`](crate::stack::Stack) does, with the `social`
/// feature): it needs the [`Accounts`] module for clients, devices and tokens.
#[derive(Clone)]
pub struct Social(Arc<Inner>);

struct Inner {
    accounts: Accounts,
    google: oidc::Oidc,
    apple: oidc::Oidc,
    microsoft: oidc::Oidc,
    facebook: facebook::Facebook,
    /// Facebook Limited Login ID tokens (iOS).
    facebook_limited: oidc::Oidc,
    github: github::Github,
    /// The authorization-code exchanges (the web-app flow), per provider.
    google_code: exchange::Exchange,
    microsoft_code: exchange::Exchange,
    facebook_code: exchange::Exchange,
    github_code: exchange::Exchange,
    unverified: UnverifiedEmail,
    /// Profile pictures: the HTTP client, the user field, and the queue (none: no
    /// downloads).
    http: reqwest::Client,
    avatar_field: String,
    jobs: std::sync::OnceLock<crate::jobs::Jobs>,
}

impl std::fmt::Debug for Social {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Social").finish_non_exhaustive()
    }
}

/// [`Social::from_settings`] could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// A setting is unusable.
    #[error("social login settings: {0}")]
    Config(String),
}

impl Social {
    /// The providers the settings configure (the others answer 400
    /// `provider_not_configured`), over `accounts`.
    pub fn from_settings(settings: &Settings, accounts: Accounts) -> Result<Social, SetupError> {
        let timeout = Duration::from_secs(settings.social_timeout_seconds.max(1));
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("nets-social-login")
            .build()
            .map_err(|e| SetupError::Config(format!("HTTP client: {e}")))?;
        let min_refresh = Duration::from_secs(settings.social_jwks_min_refresh_seconds);
        let unverified = settings.social_unverified_email.parse().map_err(SetupError::Config)?;
        let first = |ids: &[String]| ids.first().cloned().unwrap_or_default();
        let facebook_token_url = format!("{}/oauth/access_token", settings.facebook_graph_url.trim_end_matches('/'));
        Ok(Social(Arc::new(Inner {
            google_code: exchange::Exchange::new(
                http.clone(),
                &first(&settings.google_client_id),
                settings.google_client_secret.expose(),
                &settings.google_token_url,
            ),
            microsoft_code: exchange::Exchange::new(
                http.clone(),
                &first(&settings.microsoft_client_id),
                settings.microsoft_client_secret.expose(),
                &settings.microsoft_token_url,
            ),
            facebook_code: exchange::Exchange::new(
                http.clone(),
                &settings.facebook_app_id,
                settings.facebook_app_secret.expose(),
                &facebook_token_url,
            ),
            github_code: exchange::Exchange::new(
                http.clone(),
                &settings.github_client_id,
                settings.github_client_secret.expose(),
                &settings.github_token_url,
            ),
            google: oidc::Oidc::google(settings, http.clone(), min_refresh),
            apple: oidc::Oidc::apple(settings, http.clone(), min_refresh),
            microsoft: oidc::Oidc::microsoft(settings, http.clone(), min_refresh),
            facebook: facebook::Facebook::from_settings(settings, http.clone()),
            facebook_limited: oidc::Oidc::facebook(settings, http.clone(), min_refresh),
            github: github::Github::from_settings(settings, http.clone()),
            accounts,
            unverified,
            http,
            avatar_field: settings.social_avatar_field.trim().to_owned(),
            jobs: std::sync::OnceLock::new(),
        })))
    }

    /// Downloads profile pictures with a [`SocialAvatar`] job on `jobs` (the
    /// [`Stack`](crate::stack::Stack) does this; the first queue given is kept); without
    /// a queue, none are downloaded.
    pub fn jobs(self, jobs: crate::jobs::Jobs) -> Social {
        let _ = self.0.jobs.set(jobs);
        self
    }

    /// Queues the picture download of a login, when there is one to make. A queue that
    /// cannot take it is logged: the login goes on.
    pub(crate) async fn queue_avatar(&self, user: i64, picture: Option<&str>) {
        let (Some(jobs), Some(url)) = (self.0.jobs.get(), picture.filter(|p| !p.is_empty())) else { return };
        if !self.wants_avatar(user).await {
            return;
        }
        if let Err(error) = jobs.enqueue(SocialAvatar { user_id: user, url: url.to_owned() }).await {
            tracing::warn!(%error, user, "social login: the profile picture download could not be queued");
        }
    }
}

/// Installs the six social login endpoints, `/linkSocial/` and `/unlinkSocial/`, their
/// state, and the picture download job on the app's workers.
impl crate::Module for Social {
    fn install(self, app: AppBuilder) -> AppBuilder {
        app.routes(crate::module::builtin_routes("nets_runtime::social")).job::<SocialAvatar>(self.clone()).state(self)
    }
}
