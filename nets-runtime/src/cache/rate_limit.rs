//! [`RateLimit`]: fixed-window counters in the cache, 429 with `Retry-After` beyond them.

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Cache;
use crate::ApiError;
use crate::keys::hex;

/// At most `limit` hits per `window` for each key (an identifier, a client IP, ..).
///
/// Counters live in the [`Cache`], so with Redis the limit holds across every server
/// process. The window is fixed: it starts at a key's first hit.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use nets_runtime::ApiError;
/// use nets_runtime::cache::{Cache, RateLimit};
///
/// let cache = Cache::memory(100);
/// let login = RateLimit::new("login-ip", 2, Duration::from_secs(60));
/// login.hit(&cache, "203.0.113.9").await?;
/// login.hit(&cache, "203.0.113.9").await?;
/// let third = login.hit(&cache, "203.0.113.9").await.unwrap_err();
/// assert!(matches!(third, ApiError::TooManyRequests { retry_after } if retry_after <= 60));
/// # Ok::<_, ApiError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    name: &'static str,
    limit: u64,
    window: Duration,
}

impl RateLimit {
    /// `limit` hits per `window`; `name` keeps the counters of different limits apart.
    pub const fn new(name: &'static str, limit: u64, window: Duration) -> RateLimit {
        RateLimit { name, limit, window }
    }

    /// Counts a hit for `key`: `Ok` within the limit, else
    /// [`ApiError::TooManyRequests`] with the seconds until the window ends. A cache
    /// failure is a 500: failing open would switch the limit off when Redis is down.
    pub async fn hit(&self, cache: &Cache, key: &str) -> Result<(), ApiError> {
        let counter = cache.incr(&self.counter_key(key), self.window).await.map_err(ApiError::internal)?;
        if counter.count <= self.limit {
            return Ok(());
        }
        // Round up: retrying after a rounded-down time would still be refused.
        let retry_after = counter.ttl.as_millis().div_ceil(1000).max(1);
        Err(ApiError::TooManyRequests { retry_after: u64::try_from(retry_after).unwrap_or(u64::MAX) })
    }

    /// `rl:<name>:<sha256(key)>`: fixed size whatever the client sent, and no e-mail
    /// addresses or IPs in the cache in the clear.
    fn counter_key(&self, key: &str) -> String {
        let digest = Sha256::digest(key.as_bytes());
        format!("rl:{}:{}", self.name, hex(&digest))
    }
}
