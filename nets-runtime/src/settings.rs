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
}

/// The user field people log in with (`NETS_CORE_USER_IDENTIFIER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Identifier {
    /// `email` (the default), compared case-insensitively.
    #[default]
    Email,
    /// `username`, compared case-insensitively too (the table's unique index is on
    /// `lower(username)`).
    Username,
}

impl Identifier {
    /// The column name.
    pub fn column(self) -> &'static str {
        match self {
            Identifier::Email => "email",
            Identifier::Username => "username",
        }
    }
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
    // The user table (see `users::UserTable`, which checks these against its columns).
    /// `NETS_CORE_USER_IDENTIFIER`: the login field, `email` (default) or `username`.
    #[serde(rename = "NETS_CORE_USER_IDENTIFIER")]
    pub user_identifier: Identifier,
    /// `NETS_CORE_USER_JSON_FIELDS`: user fields a profile shows (and a client may ask for).
    #[serde(rename = "NETS_CORE_USER_JSON_FIELDS")]
    pub user_json_fields: Vec<String>,
    /// `NETS_CORE_USER_UPDATABLE_FIELDS`: user fields a user may change through the API.
    #[serde(rename = "NETS_CORE_USER_UPDATABLE_FIELDS")]
    pub user_updatable_fields: Vec<String>,
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
            user_identifier: Identifier::Email,
            user_json_fields: ["id", "email", "username", "first_name", "last_name", "email_verified", "last_login"]
                .map(String::from)
                .to_vec(),
            user_updatable_fields: ["first_name", "last_name"].map(String::from).to_vec(),
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
    "NETS_CORE_USER_IDENTIFIER",
    "NETS_CORE_USER_JSON_FIELDS",
    "NETS_CORE_USER_UPDATABLE_FIELDS",
];

impl Settings {
    /// Defaults ← `NETS_CONFIG` or `./nets.toml` ← environment.
    pub fn load() -> Result<Settings, SettingsError> {
        let file = std::env::var_os("NETS_CONFIG").map(PathBuf::from).unwrap_or_else(|| "nets.toml".into());
        Self::load_from(&file)
    }

    /// Defaults ← `file` (if it exists) ← environment.
    pub fn load_from(file: &Path) -> Result<Settings, SettingsError> {
        let figment = Figment::from(Toml::file(file)).merge(Env::raw().lowercase(false).only(ENV_KEYS));
        Self::extract(figment)
    }

    /// Defaults ← a TOML string (no environment): for tests and embedded configs.
    pub fn from_toml(toml: &str) -> Result<Settings, SettingsError> {
        Self::extract(Figment::from(Toml::string(toml)))
    }

    fn extract(figment: Figment) -> Result<Settings, SettingsError> {
        let settings: Settings = figment.extract().map_err(Box::new)?;
        settings.time_zone()?;
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
