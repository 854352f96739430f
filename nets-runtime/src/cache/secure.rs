//! [`SecureCache`]: secrets in the cache as HMAC digests only.

use std::time::Duration;

use subtle::ConstantTimeEq;

use super::{Cache, CacheError};
use crate::Settings;
use crate::keys::{MissingSecretKey, SecretKey, SecretString, hex};

/// The purpose [`SecureCache::from_settings`] derives its key for.
const PURPOSE: &str = "secure-cache";

/// A view of a [`Cache`] that stores keys and values only as HMAC-SHA256 digests, for
/// secrets such as one-time codes: reading the cache (or Redis) reveals neither which
/// user a code belongs to nor the code.
///
/// The key is derived from `NETS_CORE_SECURE_CACHE_KEY`, else `SECRET_KEY`. The stored
/// forms are the original library's: key `NETS_SK_` + 64 hex digits, value 64 hex digits. Unlike the
/// original, [`validate`](Self::validate) compares in constant time, and
/// [`consume`](Self::consume) accepts a correct value exactly once even when many
/// requests present it at the same moment.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::time::Duration;
/// use nets_runtime::cache::{Cache, SecureCache};
/// use nets_runtime::keys::SecretKey;
///
/// let codes = SecureCache::new(Cache::memory(100), SecretKey::new(b"secret"));
/// codes.set("login:42", "123456", Duration::from_secs(600)).await?;
/// assert!(!codes.validate("login:42", "654321").await?);
/// assert!(codes.consume("login:42", "123456").await?);
/// assert!(!codes.consume("login:42", "123456").await?); // single use
/// # Ok::<_, nets_runtime::cache::CacheError>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct SecureCache {
    cache: Cache,
    key: SecretKey,
}

impl SecureCache {
    /// Digests made with `key`, stored in `cache`.
    pub fn new(cache: Cache, key: SecretKey) -> SecureCache {
        SecureCache { cache, key }
    }

    /// A key derived for this purpose (`"secure-cache"`, see [`SecretKey::derive`]) from
    /// `NETS_CORE_SECURE_CACHE_KEY`, else `SECRET_KEY` (a random per-process key in
    /// `DEBUG` without either; an error outside `DEBUG`). Never the raw key: digests made
    /// with the raw `SECRET_KEY` could equal the keys derived from it for other purposes
    /// (`secure_value("nets:oauth-token")` was the token key).
    pub fn from_settings(cache: Cache, settings: &Settings) -> Result<SecureCache, MissingSecretKey> {
        let configured = settings.secure_cache_key.as_ref().map(SecretString::expose).filter(|k| !k.is_empty());
        let key = match configured {
            Some(k) => SecretKey::new(k.as_bytes()),
            None => SecretKey::from_settings(settings)?,
        };
        Ok(SecureCache::new(cache, key.derive(PURPOSE)))
    }

    /// The cache key under which `key` is stored: `NETS_SK_` + hex HMAC.
    pub fn secure_key(&self, key: &str) -> String {
        format!("NETS_SK_{}", self.key.digest_hex(key))
    }

    /// The stored form of `value`: hex HMAC.
    pub fn secure_value(&self, value: &str) -> String {
        self.key.digest_hex(value)
    }

    /// Stores the digest of `value` under the digest of `key` for `ttl`, replacing what
    /// was there (so a new code invalidates the previous one).
    pub async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), CacheError> {
        self.cache.set(&self.secure_key(key), self.secure_value(value).as_bytes(), ttl).await
    }

    /// Whether `candidate` is the value stored under `key` (constant-time comparison;
    /// `false` when nothing is stored). Does not remove it.
    pub async fn validate(&self, key: &str, candidate: &str) -> Result<bool, CacheError> {
        Ok(self.matching(&self.secure_key(key), candidate).await?.is_some())
    }

    /// Removes `key`; `true` when it was there.
    pub async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        self.cache.delete(&self.secure_key(key)).await
    }

    /// Accepts `candidate` once: `true` and the entry removed when it matches, `false`
    /// otherwise (a wrong candidate leaves the entry in place). Of concurrent callers
    /// presenting the right value, exactly one gets `true`.
    pub async fn consume(&self, key: &str, candidate: &str) -> Result<bool, CacheError> {
        let key = self.secure_key(key);
        match self.matching(&key, candidate).await? {
            // Compare-and-delete: the caller whose delete removes this very digest wins.
            Some(stored) => self.cache.delete_if_eq(&key, &stored).await,
            None => Ok(false),
        }
    }

    /// The stored digest when `candidate` matches it.
    async fn matching(&self, key: &str, candidate: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let Some(stored) = self.cache.get(key).await? else { return Ok(None) };
        let digest = hex(&self.key.digest(candidate.as_bytes()));
        Ok(bool::from(stored.ct_eq(digest.as_bytes())).then_some(stored))
    }
}
