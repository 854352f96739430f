//! [`TokenCache`]: access tokens answered from memory, dropped by every revocation.
//!
//! On by default for 10 seconds (`NETS_CORE_TOKEN_CACHE_SECONDS`): an instance keeps the
//! users of access tokens it has seen, keyed by the token's HMAC digest (never the
//! token), for at most the setting's seconds and never past the token's expiry, so an
//! authenticated request costs no token query with the `local` and `redis` syncs, and a
//! primary-key read with `database` (measured on SQLite: `/getProfile/` went from two
//! queries to one, 0.45× → 0.73× of the hand-written server's throughput; see the
//! README's performance section). `0` turns it off: each bearer request then reads the
//! database, and any edit of the tables applies to the next request.
//!
//! Entries are valid under one *generation* (see [`perms::sync`](crate::perms::sync)):
//! every revocation nets makes — logout, `/o/revoke_token/`, a reused refresh token, a
//! refresh retiring its access token, account deletion — writes a new one, and every
//! lookup reads the current one first, so the next request on any instance sharing the
//! generation refuses the token. Reading it is free with the local sync, one primary-key
//! read with the database, one `GET` with Redis. A lookup that cannot read it asks the
//! database, uncached.
//!
//! Edits made behind nets' back (deactivating or deleting a user, deleting token rows in
//! your own SQL) are seen after the entry's time runs out, or at once after
//! [`OAuth::invalidate_tokens`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::OAuth;
use crate::Settings;
use crate::auth::{AuthUser, MaybeAsync};
use crate::db::{Db, DbError};
use crate::perms::PermsError;
use crate::perms::cache::{GenerationCache, deadline};
use crate::perms::sync::{self, ChangeSync, Generation};

/// Users of recently seen access tokens, valid under the generation of a [`ChangeSync`].
///
/// Give it to [`OAuth::with_token_cache`], or let [`OAuth::from_settings`] build it:
///
/// ```
/// use std::time::Duration;
/// use nets_runtime::oauth::TokenCache;
/// use nets_runtime::perms::LocalSync;
///
/// // One process: revocations it makes reach its own cache at once.
/// let cache = TokenCache::new(LocalSync::default(), Duration::from_secs(30), 10_000);
/// # let _ = cache;
/// ```
pub struct TokenCache {
    users: GenerationCache<[u8; 32], AuthUser>,
    pub(super) sync: Arc<dyn ChangeSync>,
    max_age: Duration,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").field("max_age", &self.max_age).finish_non_exhaustive()
    }
}

impl TokenCache {
    /// Keeps at most `max_entries` tokens, each for at most `max_age`, valid while
    /// `sync`'s generation stays the same. Every instance serving the same tokens must
    /// share the generation: [`DatabaseSync::tokens`](crate::perms::DatabaseSync::tokens)
    /// or a `RedisSync` of its own key, not the permissions' one.
    pub fn new(sync: impl ChangeSync, max_age: Duration, max_entries: usize) -> TokenCache {
        TokenCache { users: GenerationCache::new(max_entries), sync: Arc::new(sync), max_age }
    }

    /// `NETS_CORE_TOKEN_CACHE_SECONDS` and `NETS_CORE_TOKEN_CACHE_ENTRIES` (`None` when
    /// either is 0), synced as `NETS_CORE_PERMISSIONS_SYNC` says: `auto` uses Redis with
    /// `REDIS_URL` (key `NETS_CORE_TOKEN_CACHE_REDIS_KEY`), else the database on
    /// PostgreSQL (row 2 of `nets_perm_generation`), else one process.
    pub async fn from_settings(settings: &Settings, db: &Db) -> Result<Option<TokenCache>, PermsError> {
        if settings.token_cache_seconds == 0 || settings.token_cache_entries == 0 {
            return Ok(None);
        }
        let sync = sync::from_settings(settings, db, Generation::Tokens).await?;
        Ok(TokenCache::over(Arc::from(sync), settings))
    }

    /// The cache the settings ask for, over an existing generation (`None` when off).
    pub(super) fn over(sync: Arc<dyn ChangeSync>, settings: &Settings) -> Option<TokenCache> {
        if settings.token_cache_seconds == 0 || settings.token_cache_entries == 0 {
            return None;
        }
        Some(TokenCache {
            users: GenerationCache::new(settings.token_cache_entries),
            sync,
            max_age: Duration::from_secs(settings.token_cache_seconds),
        })
    }

    /// Keeps `user`, loaded after `generation` was read, until the cache's age limit or
    /// the token's expiry, whichever comes first.
    fn keep(&self, generation: u64, digest: [u8; 32], user: &AuthUser, expires: DateTime<Utc>) {
        let left = (expires - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        self.users.put(generation, digest, user.clone(), deadline(left.min(self.max_age)));
    }
}

/// Our access tokens are 64 hex digits; those imported from django-nets-core
/// (`import-django --with-tokens`) are oauthlib's 30 letters and digits. Anything else
/// cannot match, so it is refused before any lookup, cached or not.
pub(super) fn well_formed(token: &str) -> bool {
    match token.len() {
        64 => token.bytes().all(|b| b.is_ascii_hexdigit()),
        30 => token.bytes().all(|b| b.is_ascii_alphanumeric()),
        _ => false,
    }
}

/// A failed generation read or write, as a storage error.
pub(super) fn sync_error(e: PermsError) -> DbError {
    match e {
        PermsError::Db(e) => DbError::Query(e),
        other => DbError::Sync(other.to_string()),
    }
}

impl OAuth {
    /// The user of an access token: `Ok(None)` when it is malformed, unknown, revoked,
    /// expired, or its user is inactive or gone. From the token cache when it is on and
    /// current (no allocation beyond the user's copy; no I/O with a local sync), else one
    /// query, whose answer the cache then keeps.
    pub(crate) fn access_token_user<'a>(&'a self, token: &'a str) -> MaybeAsync<'a, Result<Option<AuthUser>, DbError>> {
        if !well_formed(token) {
            return MaybeAsync::ready(Ok(None));
        }
        let digest = self.0.token_key.digest(token.as_bytes());
        let Some(cache) = self.0.token_cache.as_deref() else {
            return MaybeAsync::boxed(async move { Ok(self.lookup(&digest).await?.map(|(user, _)| user)) });
        };
        match cache.sync.current() {
            MaybeAsync::Ready(Some(Ok(generation))) => match cache.users.get(generation, &digest) {
                Some(user) => MaybeAsync::ready(Ok(Some(user))),
                None => MaybeAsync::boxed(self.load_and_keep(cache, Some(generation), digest)),
            },
            pending => MaybeAsync::boxed(async move {
                let generation = match pending.await {
                    Ok(generation) => Some(generation),
                    // Without the generation a cached user cannot be trusted: ask the database.
                    Err(e) => {
                        tracing::warn!(error = %e, "token generation unavailable; authenticating uncached");
                        None
                    }
                };
                match generation.and_then(|g| cache.users.get(g, &digest)) {
                    Some(user) => Ok(Some(user)),
                    None => self.load_and_keep(cache, generation, digest).await,
                }
            }),
        }
    }

    /// Looks the token up and keeps what is found under `generation` (when it is known).
    async fn load_and_keep(
        &self,
        cache: &TokenCache,
        generation: Option<u64>,
        digest: [u8; 32],
    ) -> Result<Option<AuthUser>, DbError> {
        let found = self.lookup(&digest).await?;
        Ok(found.map(|(user, expires)| {
            if let Some(generation) = generation {
                cache.keep(generation, digest, &user, expires);
            }
            user
        }))
    }

    /// Records that access tokens were revoked: every instance sharing the generation
    /// drops its cached tokens before its next lookup, and live WebSockets
    /// of revoked tokens close (`realtime`). Nothing to do for an OAuth built without one.
    pub(super) async fn tokens_revoked(&self) -> Result<(), DbError> {
        match &self.0.revocations {
            Some(sync) => sync.0.changed().await.map_err(sync_error),
            None => Ok(()),
        }
    }

    /// Drops every cached token, on this instance and on every instance sharing the
    /// generation, before their next request. Call it after changing users or tokens in
    /// your own SQL (deactivating or deleting a user, deleting token rows): nets' own
    /// revocations do it themselves. Without it such edits are seen once cached entries
    /// age out (`NETS_CORE_TOKEN_CACHE_SECONDS`). Does nothing when the cache is off.
    ///
    /// ```no_run
    /// # async fn demo(oauth: nets_runtime::oauth::OAuth, db: sqlx::PgPool) -> Result<(), Box<dyn std::error::Error>> {
    /// sqlx::query("UPDATE nets_user SET is_active = FALSE WHERE id = $1").bind(42_i64).execute(&db).await?;
    /// oauth.invalidate_tokens().await?; // user 42's tokens are refused on every instance from now on
    /// # Ok(()) }
    /// ```
    pub async fn invalidate_tokens(&self) -> Result<(), DbError> {
        self.tokens_revoked().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_64_hex_digits_and_imported_django_tokens_are_tokens() {
        assert!(well_formed(&"aF09".repeat(16)));
        assert!(well_formed("TbXUq0aZ9yLk2mNpQrStUvWxYz0123"), "oauthlib's generate_token()");
        for bad in [
            "",
            "abc",
            &"a".repeat(63),
            &"a".repeat(65),
            &"g".repeat(64),
            &"é".repeat(32),
            &"a".repeat(29),
            "TbXUq0aZ9yLk2mNpQrStUvWxYz012-",
        ] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
