//! OAuth2: client applications, opaque access and refresh tokens, the token and
//! revocation endpoints, and bearer authentication.
//!
//! One [`OAuth`] value holds the database and the keys; everything else hangs off it:
//!
//! ```no_run
//! use nets_runtime::prelude::*;
//! use nets_runtime::db::Db;
//! use nets_runtime::oauth::OAuth;
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let settings = Settings::load()?;
//! let db = Db::from_settings(&settings).await?;
//! // Needs SECRET_KEY outside DEBUG; NETS_CORE_TOKEN_CACHE_SECONDS turns the token cache on.
//! let oauth = OAuth::from_settings(&settings, &db).await?;
//! // `Authorization: Bearer <access token>`, `State<OAuth>` in handlers, `/o/token/`
//! // and `/o/revoke_token/`: one call.
//! let app = App::builder(settings).database(db).install(oauth).routes(build_urlpatterns!()?).build()?;
//! let router = app.router();
//! # let _ = router; Ok(()) }
//! ```
//!
//! # What is stored, and why
//!
//! Tokens and client secrets are 256-bit values from a CSPRNG, handed out once and stored
//! only as HMAC-SHA256 digests under keys derived from `SECRET_KEY` (see
//! [`keys`](crate::keys)): a copy of the tables lets nobody in.
//!
//! An access token lives `ACCESS_TOKEN_EXPIRE_SECONDS` (default 3600; the original
//! library issued 30-day tokens). A refresh token lives `REFRESH_TOKEN_EXPIRE_SECONDS`
//! and can be used **once**: `POST /o/token/` with `grant_type=refresh_token` answers a
//! new pair and retires the old one. The pairs of one login form a *family*; presenting
//! a refresh token that was already used (a stolen copy, or the legitimate one after the
//! thief used it) revokes the whole family. No family outlives
//! `REFRESH_TOKEN_MAX_AGE_SECONDS` from its login.
//!
//! A token stops working at once when it is revoked, when its user is deactivated
//! (`is_active = false`) or deleted: [`BearerAuth`] checks all three in one indexed query.
//!
//! # The token cache
//!
//! With `NETS_CORE_TOKEN_CACHE_SECONDS` above 0 (default 10; 0 is off), [`OAuth::from_settings`]
//! adds a [`TokenCache`]: an instance answers a token it has seen from memory, for at most
//! that many seconds and never past the token's expiry, so repeated requests cost no
//! query. Every revocation nets makes (logout, `/o/revoke_token/`, refresh reuse, the
//! access token a refresh retires, account deletion) replaces a shared generation — in
//! the process, the database or Redis, as `NETS_CORE_PERMISSIONS_SYNC` chooses — which
//! every lookup reads first, so no instance accepts a revoked token on its next request.
//! Deactivating or deleting users (or tokens) in your own SQL is seen when entries age
//! out, or at once after [`OAuth::invalidate_tokens`].
//!
//! The endpoints speak RFC 6749/7009, not nets' envelope: form-encoded requests,
//! `{"access_token": .., "token_type": "Bearer", ..}` and `{"error": "invalid_grant", ..}`
//! answers, as OAuth client libraries expect. The tests prove it with one: the `oauth2`
//! crate's client refreshes (Basic and body client authentication), revokes, and reads
//! the error codes of these endpoints (`tests/tests/oauth_client.rs`). That crate is a
//! client library, so the runtime does not depend on it: the six codes the server sends
//! are written out in [`ErrorCode`].

mod applications;
mod bearer;
mod cache;
pub(crate) mod django_hasher;
mod endpoints;
mod openapi;
mod tokens;

use std::sync::Arc;

use chrono::Duration;

#[cfg(feature = "accounts")]
pub(crate) use applications::ClientAuthError;
pub use applications::{Application, ClientType, ImportError, NewApplication};
pub use bearer::BearerAuth;
pub use cache::TokenCache;
pub use endpoints::{ErrorCode, TokenError};
pub use tokens::Tokens;

use crate::Settings;
use crate::db::Db;
use crate::keys::{MissingSecretKey, SecretKey};
use crate::perms::PermsError;
use crate::perms::sync::{self, ChangeSync, Generation};

// Statements are written once, with `$1`-style placeholders (both backends accept them).
pub(crate) use crate::db::on_pool;

/// OAuth2 for an application: its database, keys and token lifetimes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct OAuth(Arc<Inner>);

#[derive(Clone, Debug)]
struct Inner {
    db: Db,
    token_key: SecretKey,
    client_secret_key: SecretKey,
    access_ttl: Duration,
    refresh_ttl: Duration,
    family_max_age: Duration,
    /// `None`: every bearer lookup reads the database.
    token_cache: Option<Arc<TokenCache>>,
    /// The shared token generation every revocation replaces: the token cache's, or
    /// (cache off) the one live WebSockets watch. `None` only for an OAuth built by hand.
    revocations: Option<Revocations>,
}

/// The shared token generation, shown by `Debug` as present or not.
#[derive(Clone)]
struct Revocations(Arc<dyn ChangeSync>);

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Revocations(..)")
    }
}

/// [`OAuth::from_settings`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// No `SECRET_KEY` outside `DEBUG`.
    #[error(transparent)]
    MissingSecretKey(#[from] MissingSecretKey),
    /// The shared token generation's store (`NETS_CORE_PERMISSIONS_SYNC`, `REDIS_URL`)
    /// cannot be used: the token cache and live WebSockets depend on it.
    #[error("token revocations: {0}")]
    TokenCache(#[from] PermsError),
}

impl OAuth {
    /// OAuth over `db`, with keys from `SECRET_KEY` and lifetimes from `settings`, and
    /// the token cache they ask for (`NETS_CORE_TOKEN_CACHE_SECONDS`, 10 s by default; see
    /// [`TokenCache::from_settings`] for how instances share revocations). Fails when
    /// `SECRET_KEY` is missing outside `DEBUG` (start-up must stop), or when the cache's
    /// sync needs Redis that cannot be reached. Every process built this way caches and
    /// announces revocations alike.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use nets_runtime::{App, Settings};
    /// use nets_runtime::db::Db;
    /// use nets_runtime::oauth::OAuth;
    ///
    /// let settings = Settings::from_toml("SECRET_KEY = 'k-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\nNETS_CORE_TOKEN_CACHE_SECONDS = 30")?;
    /// let db = Db::from_settings(&settings).await?;
    /// let oauth = OAuth::from_settings(&settings, &db).await?;
    /// // Repeated requests with one token read no database for up to 30 s; a logout
    /// // through `oauth` is refused from the next request on.
    /// let app = App::builder(settings).database(db).install(oauth).build()?;
    /// # let _ = app; Ok(()) }
    /// ```
    pub async fn from_settings(settings: &Settings, db: &Db) -> Result<OAuth, SetupError> {
        let mut oauth = OAuth::without_cache(db.clone(), settings)?;
        // One generation for the cache and for the live sockets that end on revocation.
        let revocations: Arc<dyn ChangeSync> = Arc::from(sync::from_settings(settings, db, Generation::Tokens).await?);
        let mut inner = Arc::unwrap_or_clone(oauth.0);
        inner.token_cache = TokenCache::over(revocations.clone(), settings).map(Arc::new);
        inner.revocations = Some(Revocations(revocations));
        oauth.0 = Arc::new(inner);
        Ok(oauth)
    }

    /// Keys and lifetimes, no token cache yet.
    fn without_cache(db: Db, settings: &Settings) -> Result<OAuth, MissingSecretKey> {
        let key = SecretKey::from_settings(settings)?;
        let seconds = |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        Ok(OAuth(Arc::new(Inner {
            db,
            token_key: key.derive("oauth-token"),
            client_secret_key: key.derive("oauth-client-secret"),
            access_ttl: seconds(settings.access_token_expire_seconds),
            refresh_ttl: seconds(settings.refresh_token_expire_seconds),
            family_max_age: seconds(settings.refresh_token_max_age_seconds),
            token_cache: None,
            revocations: None,
        })))
    }

    /// This OAuth with bearer tokens answered from `cache` (builder style: call it before
    /// cloning the handle, since clones made earlier keep their own settings).
    ///
    /// ```no_run
    /// # fn demo(oauth: nets_runtime::oauth::OAuth, db: nets_runtime::db::Db) {
    /// use std::time::Duration;
    /// use nets_runtime::oauth::TokenCache;
    /// use nets_runtime::perms::DatabaseSync;
    ///
    /// let sync = DatabaseSync::tokens(db); // instances share revocations through the database
    /// let oauth = oauth.with_token_cache(TokenCache::new(sync, Duration::from_secs(30), 10_000));
    /// # let _ = oauth; }
    /// ```
    pub fn with_token_cache(self, cache: TokenCache) -> OAuth {
        let mut inner = Arc::unwrap_or_clone(self.0);
        inner.revocations = Some(Revocations(cache.sync.clone()));
        inner.token_cache = Some(Arc::new(cache));
        OAuth(Arc::new(inner))
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.0.db
    }

    /// The stored form of a client secret (what `client_secret_digest` holds).
    pub(crate) fn client_secret_digest(&self, secret: &str) -> String {
        self.0.client_secret_key.digest_hex(secret)
    }

    /// The stored form of a token (what `token_digest` columns hold).
    pub fn token_digest(&self, token: &str) -> String {
        self.0.token_key.digest_hex(token)
    }

    /// The [`Authenticator`](crate::auth::Authenticator) for `Authorization: Bearer`
    /// access tokens.
    pub fn bearer(&self) -> BearerAuth {
        BearerAuth::new(self.clone())
    }
}

/// Installs OAuth: its state, the bearer authenticator when the app has none, and
/// `POST /o/token/` and `POST /o/revoke_token/`.
///
/// These two endpoints are `#[request_handler]`s that speak RFC 6749/7009 (form bodies,
/// `{"error": ..}` answers, `Cache-Control: no-store`) rather than nets' envelope: the
/// DSL's `errors = ..` and `openapi = ..` keys give them that shape.
impl crate::Module for OAuth {
    fn install(self, app: crate::AppBuilder) -> crate::AppBuilder {
        let app = match app.has_authenticator() {
            true => app,
            false => app.authenticator(self.bearer()),
        };
        app.routes(crate::module::builtin_routes("nets_runtime::oauth")).state(self)
    }
}
