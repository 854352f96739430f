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

use std::sync::atomic::{AtomicU64, Ordering};

use crate::auth::{BoxFuture, MaybeAsync};
use crate::db::Db;

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

/// The token in the one row of `nets_perm_generation`: shared by every instance using
/// the database, without Redis, at the cost of a primary-key read per check.
#[derive(Debug, Clone)]
pub struct DatabaseSync(pub Db);

const READ_TOKEN: &str = "SELECT generation FROM nets_perm_generation WHERE id = 1";
// An upsert: a deleted row must not silently stop changes from being recorded.
// `excluded.updated` is the column default (now), in both backends.
const WRITE_TOKEN: &str = "INSERT INTO nets_perm_generation (id, generation) VALUES (1, $1) \
     ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, updated = excluded.updated";

impl ChangeSync for DatabaseSync {
    fn current(&self) -> MaybeAsync<'_, Result<u64, PermsError>> {
        MaybeAsync::boxed(async move {
            let token: Option<i64> = match &self.0 {
                Db::Sqlite(pool) => sqlx::query_scalar(READ_TOKEN).fetch_optional(pool).await?,
                Db::Postgres(pool) => sqlx::query_scalar(READ_TOKEN).fetch_optional(pool).await?,
            };
            Ok(token.unwrap_or(0) as u64)
        })
    }
    fn changed(&self) -> BoxFuture<'_, Result<(), PermsError>> {
        Box::pin(async move {
            let token = fresh_token() as i64;
            match &self.0 {
                Db::Sqlite(pool) => sqlx::query(WRITE_TOKEN).bind(token).execute(pool).await?.rows_affected(),
                Db::Postgres(pool) => sqlx::query(WRITE_TOKEN).bind(token).execute(pool).await?.rows_affected(),
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
