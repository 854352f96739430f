//! The cache: one-time codes, rate-limit counters and permission caches.
//!
//! [`Cache`] is a cheap handle over a [`CacheBackend`]. Two backends ship with nets:
//!
//! * [`MemoryCache`] (the default): in this process, bounded (`NETS_CORE_CACHE_MAX_ENTRIES`)
//!   and with a time-to-live per entry (moka). Right for one server process.
//! * [`RedisCache`] when `REDIS_URL` is set: shared by every process, so codes, counters
//!   and revocations hold across a horizontally scaled deployment. Keys get the prefix
//!   `NETS_CORE_CACHE_KEY_PREFIX` (default `nets:`).
//!
//! Besides get/set/delete, the backends offer the atomic operations security code needs:
//! [`take`](CacheBackend::take) (get and delete at once: of N concurrent callers exactly
//! one gets the value), [`delete_if_eq`](CacheBackend::delete_if_eq) (compare-and-delete),
//! [`set_if_absent`](CacheBackend::set_if_absent) and [`incr`](CacheBackend::incr) (a
//! counter that expires a fixed time after its first increment).
//!
//! [`SecureCache`] stores keys and values only as HMAC digests; [`RateLimit`] counts hits
//! per key and answers 429 with `Retry-After`.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::time::Duration;
//! use nets_runtime::cache::Cache;
//!
//! let cache = Cache::memory(1000);
//! cache.set("greeting", b"hi", Duration::from_secs(60)).await?;
//! assert_eq!(cache.take("greeting").await?.as_deref(), Some(&b"hi"[..]));
//! assert_eq!(cache.take("greeting").await?, None); // taken once
//! # Ok::<_, nets_runtime::cache::CacheError>(()) }).unwrap();
//! ```

mod memory;
mod rate_limit;
#[cfg(feature = "redis")]
mod redis;
mod secure;

use std::sync::Arc;
use std::time::Duration;

pub use memory::MemoryCache;
pub use rate_limit::RateLimit;
#[cfg(feature = "redis")]
pub use redis::RedisCache;
pub use secure::SecureCache;

use crate::Settings;
use crate::auth::BoxFuture;

/// A cache problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// Redis could not be reached or answered an error.
    #[cfg(feature = "redis")]
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// `REDIS_URL` is set, and this build has no Redis client (feature `redis`): a cache
    /// in memory would split codes, counters and rate limits between instances.
    #[error("REDIS_URL is set: build nets-runtime with its `redis` feature (or unset REDIS_URL)")]
    RedisNotBuilt,
    /// [`incr`](CacheBackend::incr) on a key holding something else than a counter.
    #[error("cache key '{0}' does not hold a counter")]
    NotACounter(String),
}

/// A counter after [`incr`](CacheBackend::incr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// The count, including this increment.
    pub count: u64,
    /// Time until the counter expires (and the count starts again from zero).
    pub ttl: Duration,
}

/// What a cache backend does. Every operation on one key is atomic.
///
/// Values are bytes; time-to-live is per entry (at least one millisecond). Implement it
/// to put the cache somewhere else, and give it to [`Cache::new`].
pub trait CacheBackend: Send + Sync + 'static {
    /// The value of `key`, `None` when absent or expired.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, CacheError>>;

    /// Stores `value` under `key` for `ttl`, replacing any value.
    fn set<'a>(&'a self, key: &'a str, value: &'a [u8], ttl: Duration) -> BoxFuture<'a, Result<(), CacheError>>;

    /// Stores `value` only when `key` is absent; `true` when it was stored.
    fn set_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, CacheError>>;

    /// Removes `key`; `true` when it was there.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, CacheError>>;

    /// Gets and removes `key` in one step: of concurrent callers, one gets the value.
    fn take<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, CacheError>>;

    /// Removes `key` only when it holds exactly `expected`; `true` when it did. Of
    /// concurrent callers, at most one gets `true`.
    fn delete_if_eq<'a>(&'a self, key: &'a str, expected: &'a [u8]) -> BoxFuture<'a, Result<bool, CacheError>>;

    /// Adds one to the counter at `key`, creating it (at 1) with time-to-live `window`
    /// when absent. The expiry is not pushed back by later increments: a fixed window.
    fn incr<'a>(&'a self, key: &'a str, window: Duration) -> BoxFuture<'a, Result<Counter, CacheError>>;
}

/// The application's cache: a cheap handle to a [`CacheBackend`]; call the backend's
/// operations on it directly (`cache.get(..)`).
#[derive(Clone)]
pub struct Cache(Arc<dyn CacheBackend>);

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cache(..)")
    }
}

impl std::ops::Deref for Cache {
    type Target = dyn CacheBackend;
    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}

impl Cache {
    /// A cache over any backend.
    pub fn new(backend: impl CacheBackend) -> Cache {
        Cache(Arc::new(backend))
    }

    /// An in-process cache holding at most `max_entries` entries.
    pub fn memory(max_entries: u64) -> Cache {
        Cache::new(MemoryCache::new(max_entries))
    }

    /// A Redis cache at `url` whose keys all start with `prefix`. Connects now, so an
    /// unreachable server is reported at startup.
    #[cfg(feature = "redis")]
    pub async fn redis(url: &str, prefix: &str) -> Result<Cache, CacheError> {
        Ok(Cache::new(RedisCache::connect(url, prefix).await?))
    }

    /// Redis when `REDIS_URL` is set (and not empty), otherwise in memory.
    pub async fn from_settings(settings: &Settings) -> Result<Cache, CacheError> {
        match settings.redis_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            #[cfg(feature = "redis")]
            Some(url) => Cache::redis(url, &settings.cache_key_prefix).await,
            #[cfg(not(feature = "redis"))]
            Some(_) => Err(CacheError::RedisNotBuilt),
            None => Ok(Cache::memory(settings.cache_max_entries)),
        }
    }
}

/// A time-to-live in whole milliseconds, at least 1 (Redis refuses 0).
pub(crate) fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without the `redis` feature (CI's lean test step), a set `REDIS_URL` stops
    /// start-up: an in-memory cache would split codes, counters and rate limits between
    /// instances that are meant to share them.
    #[cfg(not(feature = "redis"))]
    #[tokio::test]
    async fn a_redis_url_in_a_build_without_redis_is_refused() {
        let settings = Settings { redis_url: Some("redis://127.0.0.1:6379".into()), ..Settings::default() };
        let Err(err) = Cache::from_settings(&settings).await else { panic!("REDIS_URL without the feature: accepted") };
        assert!(matches!(err, CacheError::RedisNotBuilt), "{err}");
        assert!(err.to_string().contains("`redis` feature"), "{err}");
    }

    #[tokio::test]
    async fn no_redis_url_is_a_cache_in_memory() {
        let settings = Settings { redis_url: Some("  ".into()), ..Settings::default() };
        let cache = Cache::from_settings(&settings).await.unwrap();
        cache.set("k", b"v", Duration::from_secs(5)).await.unwrap();
        assert_eq!(cache.take("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    }
}
