//! The application's secret key and the HMAC-SHA256 digests made with it.
//!
//! nets never stores a secret a client presents (client secrets, access and refresh
//! tokens, one-time codes): it stores `HMAC-SHA256(key, secret)` and compares digests.
//! A leaked table or cache dump then grants nothing without the key.
//!
//! The key is `SECRET_KEY`. Without one, [`SecretKey::from_settings`] refuses to start
//! outside `DEBUG`; in `DEBUG` it uses a random key made once per process (with a
//! warning), so digests, and so tokens, do not survive a restart and are not shared
//! between processes. Each use gets a key of its own derived from it
//! ([`SecretKey::derive`]), so a digest made for one purpose never matches another's.
//!
//! ```
//! use nets_runtime::keys::SecretKey;
//!
//! let key = SecretKey::new(b"a long random secret").derive("tokens");
//! assert_eq!(key.digest_hex("abc"), key.digest_hex("abc"));
//! assert_ne!(key.digest_hex("abc"), SecretKey::new(b"another").derive("tokens").digest_hex("abc"));
//! ```

use std::fmt;
use std::sync::{Arc, OnceLock};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::Settings;

type HmacSha256 = Hmac<Sha256>;

/// A secret setting (`SECRET_KEY`, `NETS_CORE_SECURE_CACHE_KEY`): its `Debug` form is
/// `"***"`, so printing the settings does not print it.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        SecretString(value.to_owned())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Shortest `SECRET_KEY` accepted outside `DEBUG`, in bytes: 256 bits, the size of the
/// HMAC-SHA256 digests it keys (a shorter key is the weakest link of every digest).
pub const MIN_SECRET_KEY_BYTES: usize = 32;

/// `SECRET_KEY` is required outside development mode, and must be long enough.
#[derive(Debug, thiserror::Error)]
pub enum MissingSecretKey {
    /// No key at all.
    #[error(
        "SECRET_KEY is not set: set it to a long random value (for example `openssl rand -hex 32`); only DEBUG runs may go without one"
    )]
    Missing,
    /// A key shorter than [`MIN_SECRET_KEY_BYTES`].
    #[error("SECRET_KEY is {0} bytes long: outside DEBUG it needs at least 32 (for example `openssl rand -hex 32`)")]
    TooShort(usize),
}

/// A secret HMAC key. Its `Debug` form never shows the key.
///
/// Kept as HMAC's state after the key (its inner and outer pads hashed): each digest
/// starts from a copy of it, two SHA-256 blocks fewer than keying HMAC anew (a bearer
/// token is digested on every authenticated request).
#[derive(Clone)]
pub struct SecretKey(Arc<HmacSha256>);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// A key from raw bytes.
    pub fn new(key: &[u8]) -> SecretKey {
        // HMAC accepts keys of any length, so this cannot fail.
        match HmacSha256::new_from_slice(key) {
            Ok(mac) => SecretKey(Arc::new(mac)),
            Err(_) => unreachable!("HMAC takes keys of any length"),
        }
    }

    /// `SECRET_KEY`, or in `DEBUG` without one a random per-process key (logged as a
    /// warning). Outside `DEBUG` a missing key is an error.
    pub fn from_settings(settings: &Settings) -> Result<SecretKey, MissingSecretKey> {
        Self::configured(settings.secret_key.as_ref().map(SecretString::expose), settings.debug)
    }

    /// `value` when set and non-empty (at least [`MIN_SECRET_KEY_BYTES`] outside
    /// `debug`), else the per-process debug key when `debug`.
    pub(crate) fn configured(value: Option<&str>, debug: bool) -> Result<SecretKey, MissingSecretKey> {
        match value.filter(|v| !v.is_empty()) {
            Some(v) if !debug && v.len() < MIN_SECRET_KEY_BYTES => Err(MissingSecretKey::TooShort(v.len())),
            Some(v) => Ok(SecretKey::new(v.as_bytes())),
            None if debug => Ok(debug_key()),
            None => Err(MissingSecretKey::Missing),
        }
    }

    /// A key for one purpose: `HMAC(key, "nets:" + purpose)`. Digests made with keys
    /// of different purposes never match each other.
    pub fn derive(&self, purpose: &str) -> SecretKey {
        let mut mac = self.mac();
        mac.update(b"nets:");
        mac.update(purpose.as_bytes());
        SecretKey::new(&mac.finalize().into_bytes())
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::clone(&self.0)
    }

    /// `HMAC-SHA256(key, data)`.
    pub fn digest(&self, data: &[u8]) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The digest of `data` as 64 lower-case hex digits (how digests are stored).
    pub fn digest_hex(&self, data: &str) -> String {
        hex(&self.digest(data.as_bytes()))
    }
}

fn debug_key() -> SecretKey {
    static KEY: OnceLock<SecretKey> = OnceLock::new();
    KEY.get_or_init(|| {
        tracing::warn!(
            "SECRET_KEY is not set: DEBUG uses a random key for this process only, so tokens and \
             cached secrets do not survive a restart and are not shared with other processes"
        );
        SecretKey::new(&random_bytes::<32>())
    })
    .clone()
}

/// `N` bytes from the operating system's CSPRNG (through `rand`'s thread-local generator,
/// a ChaCha CSPRNG seeded and reseeded from the OS).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::fill(&mut bytes[..]);
    bytes
}

/// A random secret of `N` bytes as `2N` hex digits (`N = 32`: 256 bits).
pub fn random_token<const N: usize>() -> String {
    hex(&random_bytes::<N>())
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        let key = SecretKey::new(b"Jefe");
        // Twice: each digest starts from the keyed state, untouched by the one before.
        for _ in 0..2 {
            assert_eq!(
                key.digest_hex("what do ya want for nothing?"),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            );
        }
        // Case 6: a key longer than SHA-256's block is hashed first.
        let long = SecretKey::new(&[0xaa; 131]);
        assert_eq!(
            long.digest_hex("Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn missing_key_is_an_error_outside_debug_and_a_stable_random_key_in_debug() {
        assert!(SecretKey::configured(None, false).is_err());
        assert!(SecretKey::configured(Some(""), false).is_err());
        // Outside DEBUG a key needs 32 bytes; DEBUG takes any.
        let short = SecretKey::configured(Some("hunter2"), false).unwrap_err();
        assert!(matches!(short, MissingSecretKey::TooShort(7)), "{short}");
        assert!(SecretKey::configured(Some(&"k".repeat(32)), false).is_ok());
        assert!(SecretKey::configured(Some("hunter2"), true).is_ok());
        let a = SecretKey::configured(None, true).unwrap();
        let b = SecretKey::configured(None, true).unwrap();
        assert_eq!(a.digest(b"x"), b.digest(b"x"), "one key per process");
        assert_ne!(a.digest(b"x"), SecretKey::new(b"").digest(b"x"));
    }

    #[test]
    fn secret_settings_do_not_print() {
        let settings =
            Settings::from_toml("SECRET_KEY = 'hunter2-xxxxxxxxxxxxxxxxxxxxxxxx'\nNETS_CORE_SECURE_CACHE_KEY = 'k2'")
                .unwrap();
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2") && !printed.contains("k2"), "{printed}");
        assert_eq!(settings.secret_key.as_ref().map(SecretString::expose), Some("hunter2-xxxxxxxxxxxxxxxxxxxxxxxx"));
    }

    #[test]
    fn derived_keys_differ_by_purpose() {
        let key = SecretKey::new(b"k");
        assert_ne!(key.derive("a").digest(b"x"), key.derive("b").digest(b"x"));
        assert_ne!(key.derive("a").digest(b"x"), key.digest(b"x"));
    }

    #[test]
    fn random_tokens_are_long_and_distinct() {
        let (a, b) = (random_token::<32>(), random_token::<32>());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
