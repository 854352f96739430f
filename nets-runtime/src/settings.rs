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

    // Mail and jobs
    /// `DEFAULT_FROM_EMAIL`: sender of every e-mail (default `webmaster@localhost`).
    #[serde(rename = "DEFAULT_FROM_EMAIL")]
    pub default_from_email: String,
    /// `EMAIL_BACKEND`: `console` (the default: messages are printed, no server needed),
    /// `file` (one `.eml` file per message in `EMAIL_FILE_PATH`) or `smtp`.
    #[serde(rename = "EMAIL_BACKEND")]
    pub email_backend: String,
    /// `EMAIL_FILE_PATH`: directory of the `file` backend (default `sent_emails`).
    #[serde(rename = "EMAIL_FILE_PATH")]
    pub email_file_path: String,
    /// `EMAIL_HOST`: SMTP server (default `localhost`).
    #[serde(rename = "EMAIL_HOST")]
    pub email_host: String,
    /// `EMAIL_PORT`: SMTP port (default 25; usually 587 with `EMAIL_USE_TLS`, 465 with `EMAIL_USE_SSL`).
    #[serde(rename = "EMAIL_PORT")]
    pub email_port: u16,
    /// `EMAIL_HOST_USER`: SMTP user; empty means no authentication.
    #[serde(rename = "EMAIL_HOST_USER")]
    pub email_host_user: String,
    /// `EMAIL_HOST_PASSWORD`: SMTP password (never shown by `Debug`).
    #[serde(rename = "EMAIL_HOST_PASSWORD")]
    pub email_host_password: Secret,
    /// `EMAIL_USE_TLS`: upgrade the connection with STARTTLS, and refuse to send when the
    /// server does not offer it.
    #[serde(rename = "EMAIL_USE_TLS")]
    pub email_use_tls: bool,
    /// `EMAIL_USE_SSL`: implicit TLS from the first byte (SMTPS, port 465).
    #[serde(rename = "EMAIL_USE_SSL")]
    pub email_use_ssl: bool,
    /// `EMAIL_TIMEOUT`: seconds before an SMTP command gives up (default 30).
    #[serde(rename = "EMAIL_TIMEOUT")]
    pub email_timeout: u64,
    /// `NETS_CORE_EMAIL_POOL_SIZE`: SMTP connections kept open and reused (default 4).
    #[serde(rename = "NETS_CORE_EMAIL_POOL_SIZE")]
    pub email_pool_size: u32,
    /// `NETS_CORE_EMAIL_DEBUG_ENABLED`: send e-mails even when `DEBUG` is on.
    #[serde(rename = "NETS_CORE_EMAIL_DEBUG_ENABLED")]
    pub email_debug_enabled: bool,
    /// `NETS_CORE_EMAIL_EXCLUDE_DOMAINS`: recipient domains never written to; a trailing
    /// `*` matches any ending (`mailinator*` blocks `mailinator.com` and `mailinator.org`).
    #[serde(rename = "NETS_CORE_EMAIL_EXCLUDE_DOMAINS")]
    pub email_exclude_domains: Vec<String>,
    /// `NETS_CORE_EMAIL_FOOTER_ENABLED`: insert the footer before `</body>` of template e-mails.
    #[serde(rename = "NETS_CORE_EMAIL_FOOTER_ENABLED")]
    pub email_footer_enabled: bool,
    /// `NETS_CORE_EMAIL_FOOTER`: footer text (HTML-escaped, wrapped in `<span><i class="small">`).
    #[serde(rename = "NETS_CORE_EMAIL_FOOTER")]
    pub email_footer: String,
    /// `NETS_CORE_EMAIL_FOOTER_TEMPLATE`: a template rendered as the footer (wins over the text).
    #[serde(rename = "NETS_CORE_EMAIL_FOOTER_TEMPLATE")]
    pub email_footer_template: Option<String>,
    /// `NETS_CORE_EMAIL_TEMPLATES_DIR`: directory searched for templates before the built-in
    /// ones, so an application overrides `nets_core/email/base_email.html` by shipping its own.
    #[serde(rename = "NETS_CORE_EMAIL_TEMPLATES_DIR")]
    pub email_templates_dir: Option<String>,
    /// `NETS_CORE_JOBS_URL`: job storage: empty (the default) uses `DATABASE_URL`;
    /// otherwise `sqlite:…`, `postgres://…` or `redis://…`.
    #[serde(rename = "NETS_CORE_JOBS_URL")]
    pub jobs_url: String,
    /// `NETS_CORE_JOBS_QUEUE_PREFIX`: prefix of queue names (default `nets`), so several
    /// applications can share one storage.
    #[serde(rename = "NETS_CORE_JOBS_QUEUE_PREFIX")]
    pub jobs_queue_prefix: String,
    /// `NETS_CORE_JOBS_MAX_ATTEMPTS`: attempts per job before it is dead (default 5).
    #[serde(rename = "NETS_CORE_JOBS_MAX_ATTEMPTS")]
    pub jobs_max_attempts: u32,
    /// `NETS_CORE_JOBS_BACKOFF_MS`: first retry delay in milliseconds, doubled on every
    /// retry (default 2000).
    #[serde(rename = "NETS_CORE_JOBS_BACKOFF_MS")]
    pub jobs_backoff_ms: u64,
    /// `NETS_CORE_JOBS_BACKOFF_MAX_MS`: longest retry delay in milliseconds (default 300000).
    #[serde(rename = "NETS_CORE_JOBS_BACKOFF_MAX_MS")]
    pub jobs_backoff_max_ms: u64,
    /// `NETS_CORE_JOBS_CONCURRENCY`: jobs one worker runs at once (default 4).
    #[serde(rename = "NETS_CORE_JOBS_CONCURRENCY")]
    pub jobs_concurrency: usize,
    /// `NETS_CORE_JOBS_HEARTBEAT_SECONDS`: worker heartbeat; the jobs of a worker silent
    /// for two beats are handed to another worker (default 30).
    #[serde(rename = "NETS_CORE_JOBS_HEARTBEAT_SECONDS")]
    pub jobs_heartbeat_seconds: u64,
    /// `NETS_CORE_JOBS_POLL_MS`: how often an idle worker looks for new jobs, in
    /// milliseconds (default 200).
    #[serde(rename = "NETS_CORE_JOBS_POLL_MS")]
    pub jobs_poll_ms: u64,
    /// `NETS_CORE_JOBS_IN_SERVER`: the server process runs a worker too (default true);
    /// turn off when dedicated `worker` processes do the work.
    #[serde(rename = "NETS_CORE_JOBS_IN_SERVER")]
    pub jobs_in_server: bool,
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
            default_from_email: "webmaster@localhost".into(),
            email_backend: "console".into(),
            email_file_path: "sent_emails".into(),
            email_host: "localhost".into(),
            email_port: 25,
            email_host_user: String::new(),
            email_host_password: Secret::default(),
            email_use_tls: false,
            email_use_ssl: false,
            email_timeout: 30,
            email_pool_size: 4,
            email_debug_enabled: false,
            email_exclude_domains: Vec::new(),
            email_footer_enabled: true,
            email_footer: "NETS CORE footer email, you can customize this message in settings.NETS_CORE_EMAIL_FOOTER"
                .into(),
            email_footer_template: None,
            email_templates_dir: None,
            jobs_url: String::new(),
            jobs_queue_prefix: "nets".into(),
            jobs_max_attempts: 5,
            jobs_backoff_ms: 2000,
            jobs_backoff_max_ms: 300_000,
            jobs_concurrency: 4,
            jobs_heartbeat_seconds: 30,
            jobs_poll_ms: 200,
            jobs_in_server: true,
        }
    }
}

/// A secret setting: `Debug` (and so logs of the settings) shows `***`, never the value.
///
/// ```
/// let s = nets_runtime::Settings::from_toml("EMAIL_HOST_PASSWORD = 'hunter2'").unwrap();
/// assert_eq!(s.email_host_password.expose(), "hunter2");
/// assert!(!format!("{s:?}").contains("hunter2"));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
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
    // Mail and jobs
    "DEFAULT_FROM_EMAIL",
    "EMAIL_BACKEND",
    "EMAIL_FILE_PATH",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "NETS_CORE_EMAIL_POOL_SIZE",
    "NETS_CORE_EMAIL_DEBUG_ENABLED",
    "NETS_CORE_EMAIL_EXCLUDE_DOMAINS",
    "NETS_CORE_EMAIL_FOOTER_ENABLED",
    "NETS_CORE_EMAIL_FOOTER",
    "NETS_CORE_EMAIL_FOOTER_TEMPLATE",
    "NETS_CORE_EMAIL_TEMPLATES_DIR",
    "NETS_CORE_JOBS_URL",
    "NETS_CORE_JOBS_QUEUE_PREFIX",
    "NETS_CORE_JOBS_MAX_ATTEMPTS",
    "NETS_CORE_JOBS_BACKOFF_MS",
    "NETS_CORE_JOBS_BACKOFF_MAX_MS",
    "NETS_CORE_JOBS_CONCURRENCY",
    "NETS_CORE_JOBS_HEARTBEAT_SECONDS",
    "NETS_CORE_JOBS_POLL_MS",
    "NETS_CORE_JOBS_IN_SERVER",
];

impl Settings {
    /// Defaults ← `NETS_CONFIG` or `./nets.toml` ← environment.
    pub fn load() -> Result<Settings, SettingsError> {
        let file = std::env::var_os("NETS_CONFIG").map(PathBuf::from).unwrap_or_else(|| "nets.toml".into());
        Self::load_from(&file)
    }

    /// Defaults ← `file` (if it exists) ← environment.
    pub fn load_from(file: &Path) -> Result<Settings, SettingsError> {
        // `lowercase(false)` must come last: figment's `only` resets it to lower-casing,
        // and lower-cased keys never match the upper-case setting names.
        let figment = Figment::from(Toml::file(file)).merge(Env::raw().only(ENV_KEYS).lowercase(false));
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
