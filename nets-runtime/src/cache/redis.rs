//! [`RedisCache`]: the shared backend, on Redis through a reconnecting connection manager.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};

use super::{CacheBackend, CacheError, Counter, ttl_millis};
use crate::auth::BoxFuture;

/// Compare-and-delete, atomic because Redis runs a script without interleaving.
const DELETE_IF_EQ: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0";

/// The Redis cache backend. Every key is stored as `prefix + key`. Cheap to clone: the
/// connection manager multiplexes one connection and reconnects after failures.
#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    prefix: String,
    delete_if_eq: Script,
}

impl RedisCache {
    /// Connects to `url` (`redis://host:port/db`); keys get `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisCache, CacheError> {
        let client = Client::open(url)?;
        // Bounded waits: a stalled Redis must fail requests, not hang them.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(2);
        let connection = ConnectionManager::new_with_config(client, config).await?;
        Ok(RedisCache { connection, prefix: prefix.to_owned(), delete_if_eq: Script::new(DELETE_IF_EQ) })
    }

    fn key(&self, key: &str) -> String {
        let mut full = String::with_capacity(self.prefix.len() + key.len());
        full.push_str(&self.prefix);
        full.push_str(key);
        full
    }

    fn conn(&self) -> ConnectionManager {
        self.connection.clone()
    }
}

impl CacheBackend for RedisCache {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, CacheError>> {
        Box::pin(async move { Ok(redis::cmd("GET").arg(self.key(key)).query_async(&mut self.conn()).await?) })
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a [u8], ttl: Duration) -> BoxFuture<'a, Result<(), CacheError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(self.key(key)).arg(value).arg("PX").arg(ttl_millis(ttl));
            Ok(cmd.query_async::<()>(&mut self.conn()).await?)
        })
    }

    fn set_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, CacheError>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(self.key(key)).arg(value).arg("NX").arg("PX").arg(ttl_millis(ttl));
            let stored: Option<String> = cmd.query_async(&mut self.conn()).await?;
            Ok(stored.is_some())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, CacheError>> {
        Box::pin(async move {
            let removed: u64 = redis::cmd("DEL").arg(self.key(key)).query_async(&mut self.conn()).await?;
            Ok(removed > 0)
        })
    }

    fn take<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, CacheError>> {
        // GETDEL (Redis 6.2+): one command, so one caller gets the value.
        Box::pin(async move { Ok(redis::cmd("GETDEL").arg(self.key(key)).query_async(&mut self.conn()).await?) })
    }

    fn delete_if_eq<'a>(&'a self, key: &'a str, expected: &'a [u8]) -> BoxFuture<'a, Result<bool, CacheError>> {
        Box::pin(async move {
            let removed: u64 =
                self.delete_if_eq.key(self.key(key)).arg(expected).invoke_async(&mut self.conn()).await?;
            Ok(removed > 0)
        })
    }

    fn incr<'a>(&'a self, key: &'a str, window: Duration) -> BoxFuture<'a, Result<Counter, CacheError>> {
        Box::pin(async move {
            let (full, millis) = (self.key(key), ttl_millis(window));
            // MULTI/EXEC: create the counter with its expiry if absent, then count.
            let (count, mut pttl): (i64, i64) = redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(&full)
                .arg(0)
                .arg("NX")
                .arg("PX")
                .arg(millis)
                .ignore()
                .cmd("INCR")
                .arg(&full)
                .cmd("PTTL")
                .arg(&full)
                .query_async(&mut self.conn())
                .await
                .map_err(|e| match e.kind() {
                    redis::ErrorKind::Server(_) => CacheError::NotACounter(key.to_owned()),
                    _ => CacheError::Redis(e),
                })?;
            if pttl < 0 {
                // A counter written without expiry (not by us): give it one rather than
                // let it count forever.
                redis::cmd("PEXPIRE").arg(&full).arg(millis).query_async::<()>(&mut self.conn()).await?;
                pttl = i64::try_from(millis).unwrap_or(i64::MAX);
            }
            Ok(Counter {
                count: u64::try_from(count).unwrap_or(0),
                ttl: Duration::from_millis(u64::try_from(pttl).unwrap_or(0)),
            })
        })
    }
}
