//! How server instances learn that roles, grants or memberships changed.
//!
//! Every instance caches effective permissions (a per-user, per-scope cache in `perms`). A shared
//! *generation token* says whether a cached set is still current: each change writes a
//! new random token, and each check compares the token it reads with the one its cached
//! set was loaded under. Reading the token is part of every check, so the request that
//! follows a change, on any instance, sees it — a guarantee a pub/sub message cannot
//! give (it may still be in flight when that request arrives).
//!
//! Tokens are random rather than counted: a counter that restarts (a flushed Redis) would
//! hand out old values again and revive sets cached under them; a random token never
//! repeats in practice.
//!
//! The OAuth token cache ([`OAuth::from_settings`](crate::oauth::OAuth::from_settings))
//! keeps a generation of its own on the same store: row 2 of `nets_perm_generation`, or
//! `NETS_CORE_TOKEN_CACHE_REDIS_KEY`. Both follow `NETS_CORE_PERMISSIONS_SYNC`, so one
//! setting says how instances share state, and a logout does not drop cached permissions
//! nor a role change cached tokens.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::Settings;
use crate::auth::{BoxFuture, MaybeAsync};
use crate::db::{Backend, Db};
use crate::settings::PermissionsSync;

use super::PermsError;

/// A shared generation token: read on every check, replaced on every change.
///
/// The implementations are [`LocalSync`] (one process), [`DatabaseSync`] (a row in
/// `nets_perm_generation`) and `RedisSync` (a Redis key, feature `redis`). An
/// application can put it on any shared store.
pub trait ChangeSync: Send + Sync + 'static {
    /// The current token. `Ready` when it is known without I/O.
    fn current(&self) -> MaybeAsync<'_, Result<u64, PermsError>>;
    /// Records a change: from now on, every instance reads a different token.
    fn changed(&self) -> BoxFuture<'_, Result<(), PermsError>>;
}

/// A random token, never 0 (the initial token of the stores).
fn fresh_token() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0 | 1
}

/// One process: an in-memory counter. Free to read; changes made by another process
/// are not seen (use [`DatabaseSync`] or Redis when several instances serve the app).
#[derive(Debug, Default)]
pub struct LocalSync(AtomicU64);

impl ChangeSync for LocalSync {
    fn current(&self) -> MaybeAsync<'_, Result<u64, PermsError>> {
        MaybeAsync::ready(Ok(self.0.load(Ordering::Acquire)))
    }
    fn changed(&self) -> BoxFuture<'_, Result<(), PermsError>> {
        self.0.fetch_add(1, Ordering::AcqRel);
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A token in a row of `nets_perm_generation`: shared by every instance using the
/// database, without Redis, at the cost of a primary-key read per check.
#[derive(Debug, Clone)]
pub struct DatabaseSync {
    db: Db,
    generation: Generation,
}

impl DatabaseSync {
    /// The permissions generation (row 1), what [`Perms`](super::Perms) reads.
    pub fn permissions(db: Db) -> DatabaseSync {
        DatabaseSync { db, generation: Generation::Permissions }
    }

    /// The access-token generation (row 2), what the OAuth token cache reads.
    pub fn tokens(db: Db) -> DatabaseSync {
        DatabaseSync { db, generation: Generation::Tokens }
    }
}

const READ_TOKEN: &str = "SELECT generation FROM nets_perm_generation WHERE id = $1";
// An upsert: a deleted row must not silently stop changes from being recorded.
// `excluded.updated` is the column default (now), in both backends.
const WRITE_TOKEN: &str = "INSERT INTO nets_perm_generation (id, generation) VALUES ($1, $2) \
     ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, updated = excluded.updated";

impl ChangeSync for DatabaseSync {
    fn current(&self) -> MaybeAsync<'_, Result<u64, PermsError>> {
        MaybeAsync::boxed(async move {
            let row = self.generation.row();
            let token: Option<i64> = match &self.db {
                Db::Sqlite(pool) => sqlx::query_scalar(READ_TOKEN).bind(row).fetch_optional(pool).await?,
                #[cfg(feature = "postgres")]
                Db::Postgres(pool) => sqlx::query_scalar(READ_TOKEN).bind(row).fetch_optional(pool).await?,
            };
            Ok(token.unwrap_or(0) as u64)
        })
    }
    fn changed(&self) -> BoxFuture<'_, Result<(), PermsError>> {
        Box::pin(async move {
            let (row, token) = (self.generation.row(), fresh_token() as i64);
            match &self.db {
                Db::Sqlite(pool) => sqlx::query(WRITE_TOKEN).bind(row).bind(token).execute(pool).await?.rows_affected(),
                #[cfg(feature = "postgres")]
                Db::Postgres(pool) => {
                    sqlx::query(WRITE_TOKEN).bind(row).bind(token).execute(pool).await?.rows_affected()
                }
            };
            Ok(())
        })
    }
}

#[cfg(feature = "redis")]
pub use self::redis_sync::RedisSync;

#[cfg(feature = "redis")]
mod redis_sync {
    use std::time::Duration;

    use redis::aio::{ConnectionManager, ConnectionManagerConfig};

    use super::{ChangeSync, PermsError, fresh_token};
    use crate::auth::{BoxFuture, MaybeAsync};

    /// The token under one Redis key: one `GET` per check, one `SET` per change, over a
    /// reconnecting multiplexed connection. A check that cannot reach Redis is answered
    /// from the database, uncached.
    #[derive(Clone)]
    pub struct RedisSync {
        connection: ConnectionManager,
        key: String,
    }

    impl std::fmt::Debug for RedisSync {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("RedisSync").field("key", &self.key).finish_non_exhaustive()
        }
    }

    impl RedisSync {
        /// Connects to `url` (`redis://host:6379/0`); the token lives under `key`.
        pub async fn connect(url: &str, key: impl Into<String>) -> Result<RedisSync, PermsError> {
            let client = redis::Client::open(url).map_err(|e| PermsError::Sync(format!("REDIS_URL: {e}")))?;
            // A stalled Redis must not stall requests (they fall back to the database), and
            // a wrong REDIS_URL should fail startup quickly rather than after a long backoff.
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(1)))
                .set_number_of_retries(2)
                .set_max_delay(Duration::from_millis(500));
            let connection = ConnectionManager::new_with_config(client, config)
                .await
                .map_err(|e| PermsError::Sync(format!("cannot connect to Redis: {e}")))?;
            Ok(RedisSync { connection, key: key.into() })
        }
    }

    impl ChangeSync for RedisSync {
        fn current(&self) -> MaybeAsync<'_, Result<u64, PermsError>> {
            MaybeAsync::boxed(async move {
                let mut connection = self.connection.clone();
                let token: Option<u64> = redis::cmd("GET")
                    .arg(&self.key)
                    .query_async(&mut connection)
                    .await
                    .map_err(|e| PermsError::Sync(e.to_string()))?;
                Ok(token.unwrap_or(0))
            })
        }
        fn changed(&self) -> BoxFuture<'_, Result<(), PermsError>> {
            Box::pin(async move {
                let mut connection = self.connection.clone();
                let () = redis::cmd("SET")
                    .arg(&self.key)
                    .arg(fresh_token())
                    .query_async(&mut connection)
                    .await
                    .map_err(|e| PermsError::Sync(e.to_string()))?;
                Ok(())
            })
        }
    }
}

/// Which shared generation a sync keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Generation {
    /// Roles, grants and memberships: row 1, `NETS_CORE_PERMISSIONS_REDIS_KEY`.
    Permissions,
    /// Access-token revocations: row 2, `NETS_CORE_TOKEN_CACHE_REDIS_KEY`.
    Tokens,
}

impl Generation {
    /// Its row of `nets_perm_generation`.
    fn row(self) -> i16 {
        match self {
            Generation::Permissions => 1,
            Generation::Tokens => 2,
        }
    }

    fn redis_key(self, settings: &Settings) -> &str {
        match self {
            Generation::Permissions => &settings.permissions_redis_key,
            Generation::Tokens => &settings.token_cache_redis_key,
        }
    }
}

/// The sync `NETS_CORE_PERMISSIONS_SYNC` asks for, keeping `generation`: `auto` is Redis
/// when `REDIS_URL` is set, else the database on PostgreSQL, else local.
pub(crate) async fn from_settings(
    settings: &Settings,
    db: &Db,
    generation: Generation,
) -> Result<Box<dyn ChangeSync>, PermsError> {
    let redis_url = settings.redis_url.as_deref().filter(|u| !u.trim().is_empty());
    let mode = match settings.permissions_sync {
        PermissionsSync::Auto if redis_url.is_some() => PermissionsSync::Redis,
        PermissionsSync::Auto if db.backend() == Backend::Postgres => PermissionsSync::Database,
        PermissionsSync::Auto => PermissionsSync::Local,
        explicit => explicit,
    };
    Ok(match mode {
        PermissionsSync::Redis => {
            let Some(url) = redis_url else {
                return Err(PermsError::Sync("NETS_CORE_PERMISSIONS_SYNC is 'redis' but REDIS_URL is not set".into()));
            };
            redis(url, generation.redis_key(settings)).await?
        }
        PermissionsSync::Database => Box::new(DatabaseSync { db: db.clone(), generation }),
        PermissionsSync::Auto | PermissionsSync::Local => Box::new(LocalSync::default()),
    })
}

#[cfg(feature = "redis")]
async fn redis(url: &str, key: &str) -> Result<Box<dyn ChangeSync>, PermsError> {
    Ok(Box::new(RedisSync::connect(url, key).await?))
}

#[cfg(not(feature = "redis"))]
async fn redis(_: &str, _: &str) -> Result<Box<dyn ChangeSync>, PermsError> {
    Err(PermsError::Sync("this build of nets-runtime has no Redis support (feature `redis`)".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_tokens_change_on_every_change() {
        let sync = LocalSync::default();
        let before = sync.current().await.unwrap();
        sync.changed().await.unwrap();
        let after = sync.current().await.unwrap();
        assert_ne!(before, after);
        assert!(matches!(sync.current(), MaybeAsync::Ready(Some(Ok(_)))), "a local read needs no I/O");
    }

    #[test]
    fn fresh_tokens_differ_from_the_initial_one_and_each_other() {
        let (a, b) = (fresh_token(), fresh_token());
        assert!(a != 0 && b != 0 && a != b);
    }
}
