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
//! let oauth = OAuth::new(db.clone(), &settings)?; // needs SECRET_KEY outside DEBUG
//! let app = App::builder(settings)
//!     .database(db)
//!     .authenticator(oauth.bearer()) // `Authorization: Bearer <access token>`
//!     .state(oauth.clone()) // handlers reach it with `ctx.state::<OAuth>()`
//!     .build();
//! let router = app.router(build_urlpatterns!()?.merge(oauth.router())); // /o/token/, /o/revoke_token/
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
//! The endpoints speak RFC 6749/7009, not nets' envelope: form-encoded requests,
//! `{"access_token": .., "token_type": "Bearer", ..}` and `{"error": "invalid_grant", ..}`
//! answers, as OAuth client libraries expect. The tests prove it with one: the `oauth2`
//! crate's client refreshes (Basic and body client authentication), revokes, and reads
//! the error codes of these endpoints (`tests/tests/oauth_client.rs`). That crate is a
//! client library, so the runtime does not depend on it: the six codes the server sends
//! are written out in [`ErrorCode`].

mod applications;
mod bearer;
mod endpoints;
mod openapi;
mod tokens;

use std::sync::Arc;

use chrono::Duration;

pub(crate) use applications::ClientAuthError;
pub use applications::{Application, ClientType, NewApplication};
pub use bearer::BearerAuth;
pub use endpoints::{ErrorCode, TokenError};
pub use tokens::Tokens;

use crate::Settings;
use crate::db::Db;
use crate::keys::{MissingSecretKey, SecretKey};

/// Runs `$body` with `$pool` bound to the SQLite or PostgreSQL pool of `$db`. Statements
/// are written once, with `$1`-style placeholders, which both backends accept.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            crate::db::Db::Sqlite($pool) => $body,
            crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// OAuth2 for an application: its database, keys and token lifetimes. Cheap to clone.
#[derive(Clone, Debug)]
pub struct OAuth(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    db: Db,
    token_key: SecretKey,
    client_secret_key: SecretKey,
    access_ttl: Duration,
    refresh_ttl: Duration,
    family_max_age: Duration,
}

impl OAuth {
    /// OAuth over `db`, with keys from `SECRET_KEY` and lifetimes from `settings`.
    /// Without `SECRET_KEY` outside `DEBUG` this is an error: start-up must stop.
    pub fn new(db: Db, settings: &Settings) -> Result<OAuth, MissingSecretKey> {
        let key = SecretKey::from_settings(settings)?;
        let seconds = |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        Ok(OAuth(Arc::new(Inner {
            db,
            token_key: key.derive("oauth-token"),
            client_secret_key: key.derive("oauth-client-secret"),
            access_ttl: seconds(settings.access_token_expire_seconds),
            refresh_ttl: seconds(settings.refresh_token_expire_seconds),
            family_max_age: seconds(settings.refresh_token_max_age_seconds),
        })))
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.0.db
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
