//! Typed settings, loaded from `nets.toml` and environment variables.
//!
//! Names keep the original library's (`NETS_CORE_OPENAPI_TITLE`, `DEBUG`, `TIME_ZONE`,
//! ...). Precedence, lowest first: built-in defaults, the TOML file (`NETS_CONFIG`, else
//! `./nets.toml` when it exists), environment variables. Keys are
//! written as in the original (`NETS_CORE_OPENAPI_TITLE = ".."`) in the file too.
//!
//! ```
//! use nets_runtime::Settings;
//!
//! let s = Settings::from_toml("NETS_CORE_OPENAPI_TITLE = 'Billing'\nTIME_ZONE = 'Europe/Madrid'").unwrap();
//! assert_eq!(s.openapi_title, "Billing");
//! assert_eq!(s.time_zone().unwrap().name(), "Europe/Madrid");
//! ```

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

/// A settings problem found at startup.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value has the wrong type or the file does not parse.
    #[error("invalid settings: {0}")]
    Invalid(#[from] Box<figment::Error>),
    /// `TIME_ZONE` is not an IANA zone name.
    #[error("TIME_ZONE '{0}' is not a known IANA time zone (for example 'UTC' or 'America/Bogota')")]
    TimeZone(String),
    /// An entry of `NETS_CORE_TRUSTED_PROXIES` is neither an IP address nor a CIDR range.
    #[error("NETS_CORE_TRUSTED_PROXIES: {0}")]
    TrustedProxy(#[from] crate::client_ip::InvalidProxy),
    /// A token lifetime is zero, or the refresh lifetime exceeds its absolute maximum.
    #[error("{0}")]
    TokenLifetime(&'static str),
}

/// Every setting nets reads. Field docs name the setting key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
#[non_exhaustive]
pub struct Settings {
    /// `DEBUG`: development mode.
    #[serde(rename = "DEBUG")]
    pub debug: bool,
    /// `TIME_ZONE`: IANA zone in which naive datetimes are read (default `UTC`).
    #[serde(rename = "TIME_ZONE")]
    pub time_zone: String,
    /// `DATABASE_URL`: `sqlite://nets.db?mode=rwc` (the default: a file next to the
    /// binary, created on first run) or `postgres://user:pass@host/db`.
    #[serde(rename = "DATABASE_URL")]
    pub database_url: String,
    /// `NETS_CORE_DATABASE_MAX_CONNECTIONS`: pool size (default 8, best measured on 2 cores).
    #[serde(rename = "NETS_CORE_DATABASE_MAX_CONNECTIONS")]
    pub database_max_connections: u32,
    /// `NETS_CORE_MIGRATE_ON_STARTUP`: run pending migrations when the server starts.
    #[serde(rename = "NETS_CORE_MIGRATE_ON_STARTUP")]
    pub migrate_on_startup: bool,
    /// `MEDIA_ROOT`: directory of [`LocalStorage`](crate::uploads::LocalStorage) uploads (default `media`).
    #[serde(rename = "MEDIA_ROOT")]
    pub media_root: String,
    /// `NETS_CORE_MAX_BODY_SIZE`: largest accepted request body in bytes (default 10 MiB).
    #[serde(rename = "NETS_CORE_MAX_BODY_SIZE")]
    pub max_body_size: usize,
    /// `NETS_CORE_MAX_FIELDS`: most parameters one request may carry (path, query and
    /// body together; default 1000). More is a 400.
    #[serde(rename = "NETS_CORE_MAX_FIELDS")]
    pub max_fields: usize,
    /// `NETS_CORE_OPENAPI_TITLE`
    #[serde(rename = "NETS_CORE_OPENAPI_TITLE")]
    pub openapi_title: String,
    /// `NETS_CORE_OPENAPI_VERSION`
    #[serde(rename = "NETS_CORE_OPENAPI_VERSION")]
    pub openapi_version: String,
    /// `NETS_CORE_OPENAPI_DESCRIPTION`
    #[serde(rename = "NETS_CORE_OPENAPI_DESCRIPTION")]
    pub openapi_description: String,
    /// `NETS_CORE_OPENAPI_TAGS`: tags of operations that declare none.
    #[serde(rename = "NETS_CORE_OPENAPI_TAGS")]
    pub openapi_tags: Vec<String>,
    /// `NETS_CORE_OPENAPI_MODULES`: module path prefixes documented in `/openapi.json`
    /// (empty: every registered endpoint).
    #[serde(rename = "NETS_CORE_OPENAPI_MODULES")]
    pub openapi_modules: Vec<String>,
    /// `NETS_CORE_DOCS_ENABLED`: serve the interactive API page at `/docs`.
    #[serde(rename = "NETS_CORE_DOCS_ENABLED")]
    pub docs_enabled: bool,
    /// `CORS_ALLOWED_ORIGINS`: origins allowed to call the API from a browser.
    #[serde(rename = "CORS_ALLOWED_ORIGINS")]
    pub cors_allowed_origins: Vec<String>,
    /// `CORS_ALLOW_ALL_ORIGINS`: any origin (never together with credentials).
    #[serde(rename = "CORS_ALLOW_ALL_ORIGINS")]
    pub cors_allow_all_origins: bool,
    /// `CORS_ALLOW_CREDENTIALS`: let browsers send cookies/authorization cross-origin.
    #[serde(rename = "CORS_ALLOW_CREDENTIALS")]
    pub cors_allow_credentials: bool,
    /// `NETS_CORE_PROTECTED_FIELDS`: field names never serialised by
    /// [`ToJson`](crate::ToJson), on any model (exact names, any case), on top of each
    /// model's own `protected` list.
    #[serde(rename = "NETS_CORE_PROTECTED_FIELDS")]
    pub protected_fields: Vec<String>,

    // Cache, tokens and rate limits
    /// `SECRET_KEY`: the key of every HMAC digest nets stores (tokens, client secrets,
    /// codes). Required outside `DEBUG`; see [`keys`](crate::keys).
    #[serde(rename = "SECRET_KEY")]
    pub secret_key: Option<crate::keys::SecretString>,
    /// `NETS_CORE_SECURE_CACHE_KEY`: key of `cache::SecureCache` digests (default:
    /// `SECRET_KEY`).
    #[serde(rename = "NETS_CORE_SECURE_CACHE_KEY")]
    pub secure_cache_key: Option<crate::keys::SecretString>,
    /// `REDIS_URL`: when set, the cache (`nets_runtime::cache`) lives in Redis (shared by
    /// every process); otherwise in this process's memory.
    #[serde(rename = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// `NETS_CORE_CACHE_KEY_PREFIX`: prefix of every cache key (default `nets:`), so
    /// several applications can share one Redis.
    #[serde(rename = "NETS_CORE_CACHE_KEY_PREFIX")]
    pub cache_key_prefix: String,
    /// `NETS_CORE_CACHE_MAX_ENTRIES`: capacity of the in-memory cache (default 100,000).
    #[serde(rename = "NETS_CORE_CACHE_MAX_ENTRIES")]
    pub cache_max_entries: u64,
    /// `ACCESS_TOKEN_EXPIRE_SECONDS`: access-token lifetime (default 3600; the original
    /// used 30 days).
    #[serde(rename = "ACCESS_TOKEN_EXPIRE_SECONDS")]
    pub access_token_expire_seconds: u64,
    /// `REFRESH_TOKEN_EXPIRE_SECONDS`: lifetime of each refresh token (default 30 days);
    /// every refresh issues a new one.
    #[serde(rename = "REFRESH_TOKEN_EXPIRE_SECONDS")]
    pub refresh_token_expire_seconds: u64,
    /// `REFRESH_TOKEN_MAX_AGE_SECONDS`: absolute limit of a login's refresh chain,
    /// counted from the login (default 90 days); after it the user logs in again.
    #[serde(rename = "REFRESH_TOKEN_MAX_AGE_SECONDS")]
    pub refresh_token_max_age_seconds: u64,
    /// `NETS_CORE_TRUSTED_PROXIES`: addresses or CIDR ranges of reverse proxies whose
    /// `X-Forwarded-For` is believed (default: none, so the peer address is the client).
    #[serde(rename = "NETS_CORE_TRUSTED_PROXIES")]
    pub trusted_proxies: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            debug: false,
            time_zone: "UTC".into(),
            database_url: "sqlite://nets.db?mode=rwc".into(),
            database_max_connections: 8,
            migrate_on_startup: true,
            media_root: "media".into(),
            max_body_size: 10 * 1024 * 1024,
            max_fields: 1000,
            openapi_title: "NETS CORE API".into(),
            openapi_version: "1.0.0".into(),
            openapi_description: "Auto-generated OpenAPI schema from request_handler route metadata.".into(),
            openapi_tags: Vec::new(),
            openapi_modules: Vec::new(),
            docs_enabled: true,
            cors_allowed_origins: Vec::new(),
            cors_allow_all_origins: false,
            cors_allow_credentials: false,
            protected_fields: [
                "password",
                "password_hash",
                "client_secret",
                "client_secret_digest",
                "token_digest",
                "code_digest",
                "is_superuser",
                "is_staff",
            ]
            .map(String::from)
            .to_vec(),
            secret_key: None,
            secure_cache_key: None,
            redis_url: None,
            cache_key_prefix: "nets:".into(),
            cache_max_entries: 100_000,
            access_token_expire_seconds: 3600,
            refresh_token_expire_seconds: 30 * 24 * 3600,
            refresh_token_max_age_seconds: 90 * 24 * 3600,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Environment variables nets reads (only these: the rest of the environment is ignored).
const ENV_KEYS: &[&str] = &[
    "DEBUG",
    "TIME_ZONE",
    "DATABASE_URL",
    "NETS_CORE_DATABASE_MAX_CONNECTIONS",
    "NETS_CORE_MIGRATE_ON_STARTUP",
    "MEDIA_ROOT",
    "NETS_CORE_MAX_BODY_SIZE",
    "NETS_CORE_MAX_FIELDS",
    "NETS_CORE_OPENAPI_TITLE",
    "NETS_CORE_OPENAPI_VERSION",
    "NETS_CORE_OPENAPI_DESCRIPTION",
    "NETS_CORE_OPENAPI_TAGS",
    "NETS_CORE_OPENAPI_MODULES",
    "NETS_CORE_DOCS_ENABLED",
    "CORS_ALLOWED_ORIGINS",
    "CORS_ALLOW_ALL_ORIGINS",
    "CORS_ALLOW_CREDENTIALS",
    "NETS_CORE_PROTECTED_FIELDS",
    // Cache, tokens and rate limits (SECRET_KEY and NETS_CORE_SECURE_CACHE_KEY: see `load_from`)
    "REDIS_URL",
    "NETS_CORE_CACHE_KEY_PREFIX",
    "NETS_CORE_CACHE_MAX_ENTRIES",
    "ACCESS_TOKEN_EXPIRE_SECONDS",
    "REFRESH_TOKEN_EXPIRE_SECONDS",
    "REFRESH_TOKEN_MAX_AGE_SECONDS",
    "NETS_CORE_TRUSTED_PROXIES",
];

impl Settings {
    /// Defaults ← `NETS_CONFIG` or `./nets.toml` ← environment.
    pub fn load() -> Result<Settings, SettingsError> {
        let file = std::env::var_os("NETS_CONFIG").map(PathBuf::from).unwrap_or_else(|| "nets.toml".into());
        Self::load_from(&file)
    }

    /// Defaults ← `file` (if it exists) ← environment.
    pub fn load_from(file: &Path) -> Result<Settings, SettingsError> {
        // `lowercase(false)` after `only`: figment's `only` (a filter) resets key case
        // handling to lower-case, which would match no (upper-case) setting name.
        let figment = Figment::from(Toml::file(file)).merge(Env::raw().only(ENV_KEYS).lowercase(false));
        let mut settings = Self::extract(figment)?;
        // Secret keys are read verbatim: figment would parse `12345` as a number (refused)
        // and `007` as 7 (another key).
        if let Ok(key) = std::env::var("SECRET_KEY") {
            settings.secret_key = Some(key.as_str().into());
        }
        if let Ok(key) = std::env::var("NETS_CORE_SECURE_CACHE_KEY") {
            settings.secure_cache_key = Some(key.as_str().into());
        }
        Ok(settings)
    }

    /// Defaults ← a TOML string (no environment): for tests and embedded configs.
    pub fn from_toml(toml: &str) -> Result<Settings, SettingsError> {
        Self::extract(Figment::from(Toml::string(toml)))
    }

    fn extract(figment: Figment) -> Result<Settings, SettingsError> {
        let settings: Settings = figment.extract().map_err(Box::new)?;
        settings.time_zone()?;
        crate::client_ip::TrustedProxies::parse(&settings.trusted_proxies)?;
        if settings.access_token_expire_seconds == 0 || settings.refresh_token_expire_seconds == 0 {
            return Err(SettingsError::TokenLifetime(
                "ACCESS_TOKEN_EXPIRE_SECONDS and REFRESH_TOKEN_EXPIRE_SECONDS must be positive",
            ));
        }
        if settings.refresh_token_expire_seconds > settings.refresh_token_max_age_seconds {
            return Err(SettingsError::TokenLifetime(
                "REFRESH_TOKEN_EXPIRE_SECONDS must not exceed REFRESH_TOKEN_MAX_AGE_SECONDS",
            ));
        }
        Ok(settings)
    }

    /// The parsed `TIME_ZONE`.
    pub fn time_zone(&self) -> Result<chrono_tz::Tz, SettingsError> {
        self.time_zone.parse().map_err(|_| SettingsError::TimeZone(self.time_zone.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_original_library() {
        let s = Settings::default();
        assert_eq!(s.openapi_title, "NETS CORE API");
        assert_eq!(s.openapi_version, "1.0.0");
    }

    #[test]
    fn bad_values_are_reported_not_defaulted() {
        assert!(matches!(Settings::from_toml("TIME_ZONE = 'Mars/Olympus'"), Err(SettingsError::TimeZone(_))));
        assert!(Settings::from_toml("NETS_CORE_MAX_BODY_SIZE = 'big'").is_err());
        let s = Settings::from_toml("NETS_CORE_OPENAPI_TAGS = ['a', 'b']\nDEBUG = true").unwrap();
        assert_eq!(s.openapi_tags, vec!["a", "b"]);
        assert!(s.debug);
    }
}
