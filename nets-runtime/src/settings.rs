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
    /// A table name setting is not a plain SQL identifier.
    #[error("{key} '{value}' is not a table name: use letters, digits and '_' (for example 'app_project')")]
    TableName {
        /// The setting.
        key: &'static str,
        /// Its value.
        value: String,
    },
    /// Only one of the two project tables is set.
    #[error("NETS_CORE_PROJECT_MODEL and NETS_CORE_PROJECT_MEMBER_MODEL go together: set both or neither")]
    ProjectTablesPair,
    /// An entry of `NETS_CORE_TRUSTED_PROXIES` is neither an IP address nor a CIDR range.
    #[error("NETS_CORE_TRUSTED_PROXIES: {0}")]
    TrustedProxy(#[from] crate::client_ip::InvalidProxy),
    /// A header setting's value cannot be sent in an HTTP header.
    #[error("{key} '{value}' is not a valid HTTP header value")]
    Header {
        /// The setting.
        key: &'static str,
        /// Its value.
        value: String,
    },
    /// A token lifetime is zero, or the refresh lifetime exceeds its absolute maximum.
    #[error("{0}")]
    TokenLifetime(&'static str),
}

/// The user field people log in with (`NETS_CORE_USER_IDENTIFIER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
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
///
/// The field docs are also the reference `init` writes into `nets.toml` (read through
/// the [`ToSchema`](utoipa::ToSchema) derive, so the file cannot drift from this struct).
#[derive(Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
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
    /// `NETS_CORE_COMPRESS_JSON_ABOVE_BYTES`: JSON answers larger than this are sent
    /// gzip- or (feature `brotli`) brotli-compressed to clients that accept it (default
    /// 0: off). Off by default: compressing answers that mix secrets with text an
    /// attacker can inject leaks the secrets through their size (BREACH), and most API
    /// answers are small. `/openapi.json` is compressed whatever this says.
    #[serde(rename = "NETS_CORE_COMPRESS_JSON_ABOVE_BYTES")]
    pub compress_json_above_bytes: usize,
    /// `NETS_CORE_MAX_FIELDS`: most parameters one request may carry (path, query and
    /// body together; default 1000). More is a 400.
    #[serde(rename = "NETS_CORE_MAX_FIELDS")]
    pub max_fields: usize,
    /// `NETS_CORE_PAGE_SIZE`: items per page of a [`Page`](crate::params::Page) argument
    /// when the client sends no `page_size` (default 25, the original's `paginated_by`).
    #[serde(rename = "NETS_CORE_PAGE_SIZE")]
    pub page_size: u64,
    /// `NETS_CORE_PAGE_SIZE_MAX`: the largest `page_size` a client gets (default 100;
    /// larger requests are reduced to it, and `extra.page_size` says so).
    #[serde(rename = "NETS_CORE_PAGE_SIZE_MAX")]
    pub page_size_max: u64,
    /// `NETS_CORE_HEADER_READ_TIMEOUT_SECONDS`: how long [`serve`](crate::serve) waits for
    /// a request's headers, from the connection's start or the end of the previous
    /// response (so it is also the keep-alive idle timeout); default 10. Slow or silent
    /// clients are disconnected instead of holding a file descriptor forever.
    #[serde(rename = "NETS_CORE_HEADER_READ_TIMEOUT_SECONDS")]
    pub header_read_timeout_seconds: u64,
    /// `NETS_CORE_BODY_READ_TIMEOUT_SECONDS`: the longest wait for the next piece of a
    /// request body (default 30); a stalled upload is a 4xx, not an open connection.
    #[serde(rename = "NETS_CORE_BODY_READ_TIMEOUT_SECONDS")]
    pub body_read_timeout_seconds: u64,
    /// `NETS_CORE_MAX_CONNECTIONS`: open connections [`serve`](crate::serve) handles at
    /// once (default 10 000), WebSockets included until they close; further clients wait
    /// in the listen backlog.
    #[serde(rename = "NETS_CORE_MAX_CONNECTIONS")]
    pub max_connections: usize,
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
    /// `X_FRAME_OPTIONS`: the `X-Frame-Options` header of every response (default
    /// `DENY`, as Django's middleware sent; empty: none).
    #[serde(rename = "X_FRAME_OPTIONS")]
    pub x_frame_options: String,
    /// `SECURE_CONTENT_TYPE_NOSNIFF`: send `X-Content-Type-Options: nosniff` (default true).
    #[serde(rename = "SECURE_CONTENT_TYPE_NOSNIFF")]
    pub secure_content_type_nosniff: bool,
    /// `SECURE_REFERRER_POLICY`: the `Referrer-Policy` header (default `same-origin`;
    /// empty: none).
    #[serde(rename = "SECURE_REFERRER_POLICY")]
    pub secure_referrer_policy: String,
    /// `SECURE_CROSS_ORIGIN_OPENER_POLICY`: the `Cross-Origin-Opener-Policy` header
    /// (default `same-origin`; empty: none).
    #[serde(rename = "SECURE_CROSS_ORIGIN_OPENER_POLICY")]
    pub secure_cross_origin_opener_policy: String,
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
    /// `NETS_CORE_USER_FILE_FIELDS`: text columns of `nets_user` that `/update/` fills
    /// from `multipart/form-data` file uploads, storing the file under `MEDIA_ROOT` and
    /// the column with its path (default: none). Never also updatable fields, so a client
    /// cannot write an arbitrary path into them.
    #[serde(rename = "NETS_CORE_USER_FILE_FIELDS")]
    pub user_file_fields: Vec<String>,
    /// `NETS_CORE_USER_FILE_TYPES`: content types a user file upload may have, as sniffed
    /// from its bytes (`image/*` wildcards accepted; default `image/png`, `image/jpeg`,
    /// `image/gif`, `image/webp`).
    #[serde(rename = "NETS_CORE_USER_FILE_TYPES")]
    pub user_file_types: Vec<String>,
    /// `NETS_CORE_USER_FILE_MAX_BYTES`: largest user file upload in bytes (default 5 MiB).
    #[serde(rename = "NETS_CORE_USER_FILE_MAX_BYTES")]
    pub user_file_max_bytes: usize,

    // Roles, permissions and projects
    /// `NETS_CORE_PROJECT_MODEL`: the table of the application's projects (an integer
    /// `id` column). Unset: `project_id` is an ordinary parameter. A plain SQL identifier,
    /// checked at startup; never taken from a request.
    #[serde(rename = "NETS_CORE_PROJECT_MODEL")]
    pub project_model: Option<String>,
    /// `NETS_CORE_PROJECT_MEMBER_MODEL`: the table of project memberships (`project_id`,
    /// `user_id`; optional `is_superuser`, `enabled`, and `role` (a name) or `role_id` (a
    /// `nets_role` row)). A plain SQL identifier, checked at startup.
    #[serde(rename = "NETS_CORE_PROJECT_MEMBER_MODEL")]
    pub project_member_model: Option<String>,
    /// `NETS_CORE_PROJECT_ROLE_MODEL`: the application's own table of project roles (the
    /// original's `ProjectMember.role` → `ProjectRole`). The membership table's `role_id`
    /// then references this table's `id`, the role's name is read from
    /// `NETS_CORE_PROJECT_ROLE_NAME_FIELD`, and an `enabled` column, when the table has
    /// one, is honoured. Unset: `role_id` references `nets_role`. A plain SQL identifier,
    /// checked at startup.
    #[serde(rename = "NETS_CORE_PROJECT_ROLE_MODEL")]
    pub project_role_model: Option<String>,
    /// `NETS_CORE_PROJECT_ROLE_NAME_FIELD`: the column of `NETS_CORE_PROJECT_ROLE_MODEL`
    /// that holds a role's name (default `name`).
    #[serde(rename = "NETS_CORE_PROJECT_ROLE_NAME_FIELD")]
    pub project_role_name_field: String,
    /// `NETS_CORE_PERMISSIONS_SYNC`: how server instances learn that roles, grants or
    /// memberships changed (see [`perms`](crate::perms)): `auto` (default: `redis` with
    /// `REDIS_URL`, else `database` on PostgreSQL, else `local`), `local`, `database`, `redis`.
    #[serde(rename = "NETS_CORE_PERMISSIONS_SYNC")]
    pub permissions_sync: PermissionsSync,
    /// `NETS_CORE_PERMISSIONS_CACHE_SECONDS`: longest time a cached permission set is used
    /// (default 60; changes made through nets apply at once, this bounds changes made
    /// behind its back). `0` turns the cache off.
    #[serde(rename = "NETS_CORE_PERMISSIONS_CACHE_SECONDS")]
    pub permissions_cache_seconds: u64,
    /// `NETS_CORE_PERMISSIONS_CACHE_ENTRIES`: most (user, scope) permission sets kept per
    /// instance (default 100 000).
    #[serde(rename = "NETS_CORE_PERMISSIONS_CACHE_ENTRIES")]
    pub permissions_cache_entries: usize,
    /// `NETS_CORE_PERMISSIONS_STARTUP`: what to do at startup with the codenames handlers
    /// declare in `can_do`: `off` (default), `register` (create the missing permissions),
    /// `verify` (refuse to start while one is missing: typos surface at startup).
    #[serde(rename = "NETS_CORE_PERMISSIONS_STARTUP")]
    pub permissions_startup: PermissionsStartup,
    /// `NETS_CORE_PERMISSIONS_REDIS_KEY`: the Redis key of the shared permissions
    /// generation (default `nets:perms:generation`).
    #[serde(rename = "NETS_CORE_PERMISSIONS_REDIS_KEY")]
    pub permissions_redis_key: String,
    /// `REDIS_URL`: `redis://host:6379/0`; unset means no Redis. When set, the cache
    /// (`nets_runtime::cache`) and permission invalidation live in Redis, shared by every process.
    #[serde(rename = "REDIS_URL")]
    pub redis_url: Option<String>,

    // Cache, tokens and rate limits
    /// `SECRET_KEY`: the key of every HMAC digest nets stores (tokens, client secrets,
    /// codes). Required outside `DEBUG`; see [`keys`](crate::keys).
    #[serde(rename = "SECRET_KEY")]
    #[schema(value_type = Option<String>)]
    pub secret_key: Option<crate::keys::SecretString>,
    /// `NETS_CORE_SECURE_CACHE_KEY`: key of `cache::SecureCache` digests (default:
    /// `SECRET_KEY`).
    #[serde(rename = "NETS_CORE_SECURE_CACHE_KEY")]
    #[schema(value_type = Option<String>)]
    pub secure_cache_key: Option<crate::keys::SecretString>,
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
    /// `NETS_CORE_TOKEN_CACHE_SECONDS`: longest time an instance answers a bearer token
    /// from memory instead of the database (default 10; 0 turns the cache off, so every
    /// request reads the database and direct edits of the tables apply at once).
    /// Revocations made through nets reach every instance sharing the generation
    /// (`NETS_CORE_PERMISSIONS_SYNC`) on its next request; this bounds what it cannot
    /// see: edits made behind nets' back, and revocations by another process under the
    /// `local` sync (the CLI against an SQLite app without Redis). Used by
    /// [`OAuth::from_settings`](crate::oauth::OAuth::from_settings); set it alike on every
    /// instance.
    #[serde(rename = "NETS_CORE_TOKEN_CACHE_SECONDS")]
    pub token_cache_seconds: u64,
    /// `NETS_CORE_TOKEN_CACHE_ENTRIES`: most access tokens one instance keeps in memory
    /// (default 10 000).
    #[serde(rename = "NETS_CORE_TOKEN_CACHE_ENTRIES")]
    pub token_cache_entries: usize,
    /// `NETS_CORE_TOKEN_CACHE_REDIS_KEY`: the Redis key of the shared token generation
    /// (default `nets:tokens:generation`), when the token cache syncs through Redis.
    #[serde(rename = "NETS_CORE_TOKEN_CACHE_REDIS_KEY")]
    pub token_cache_redis_key: String,
    /// `NETS_CORE_TRUSTED_PROXIES`: addresses or CIDR ranges of reverse proxies whose
    /// `X-Forwarded-For` is believed (default: none, so the peer address is the client).
    #[serde(rename = "NETS_CORE_TRUSTED_PROXIES")]
    pub trusted_proxies: Vec<String>,

    // Mail and jobs
    /// `DEFAULT_FROM_EMAIL`: sender of every e-mail (default `webmaster@localhost`).
    #[serde(rename = "DEFAULT_FROM_EMAIL")]
    pub default_from_email: String,
    /// `EMAIL_BACKEND`: `smtp`, `file` (one `.eml` file per message in `EMAIL_FILE_PATH`)
    /// or `console` (messages, login codes included, printed to standard output). Unset
    /// (the default): `smtp` when `EMAIL_HOST` is set, else `console` when `DEBUG` is on;
    /// outside `DEBUG` with neither, building a [`Mailer`](crate::mail::Mailer) fails, and
    /// `console` outside `DEBUG` needs `NETS_CORE_EMAIL_CONSOLE_ALLOWED`.
    #[serde(rename = "EMAIL_BACKEND")]
    pub email_backend: String,
    /// `EMAIL_FILE_PATH`: directory of the `file` backend (default `sent_emails`).
    #[serde(rename = "EMAIL_FILE_PATH")]
    pub email_file_path: String,
    /// `EMAIL_HOST`: SMTP server. Unset by default; setting it makes `smtp` the default
    /// backend. An explicit `EMAIL_BACKEND = "smtp"` without it uses `localhost`.
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
    #[schema(value_type = String)]
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
    /// `NETS_CORE_EMAIL_CONSOLE_ALLOWED`: allow `EMAIL_BACKEND = "console"` outside
    /// `DEBUG` (default false: a production server would print every login code to its
    /// logs, so the mailer refuses to start).
    #[serde(rename = "NETS_CORE_EMAIL_CONSOLE_ALLOWED")]
    pub email_console_allowed: bool,
    // --- Accounts (`accounts` module: /login/, /authenticate/, /update/, /delete/) ---
    /// `NETS_CORE_VERIFICATION_CODE_EXPIRE_SECONDS`: lifetime of a login code (default 600).
    #[serde(rename = "NETS_CORE_VERIFICATION_CODE_EXPIRE_SECONDS")]
    pub verification_code_expire_seconds: u64,
    /// `NETS_CORE_VERIFICATION_CODE_LENGTH`: digits in a login code (default 6, 4 to 12).
    #[serde(rename = "NETS_CORE_VERIFICATION_CODE_LENGTH")]
    pub verification_code_length: u8,
    /// `NETS_CORE_DEBUG_VERIFICATION_CODE`: the code every login gets when `DEBUG` is on
    /// and `NETS_CORE_EMAIL_DEBUG_ENABLED` is off (default `123456`).
    #[serde(rename = "NETS_CORE_DEBUG_VERIFICATION_CODE")]
    pub debug_verification_code: String,
    /// `NETS_CORE_TESTERS_EMAILS`: existing store-review accounts that log in with a fixed
    /// code. Exact addresses outside `DEBUG` (in `DEBUG` a trailing `*` is a prefix match).
    /// Empty by default: there is no built-in tester.
    #[serde(rename = "NETS_CORE_TESTERS_EMAILS")]
    pub testers_emails: Vec<String>,
    /// `NETS_CORE_TESTERS_VERIFICATION_CODE`: the testers' code, at least 8 digits outside
    /// `DEBUG`; testers are ignored without it.
    #[serde(rename = "NETS_CORE_TESTERS_VERIFICATION_CODE")]
    pub testers_verification_code: Option<String>,
    /// `NETS_CORE_USER_PROHIBITED_FIELDS`: extra fields `/update/` refuses (trailing `*`: prefix).
    #[serde(rename = "NETS_CORE_USER_PROHIBITED_FIELDS")]
    pub user_prohibited_fields: Vec<String>,
    /// `NETS_CORE_LOGIN_CODES_PER_IDENTIFIER`: `/login/` requests per identifier and client
    /// address (IPv6: its /64) per rate-limit window (default 5; 0 switches the limit off).
    #[serde(rename = "NETS_CORE_LOGIN_CODES_PER_IDENTIFIER")]
    pub login_codes_per_identifier: u64,
    /// `NETS_CORE_LOGIN_CODES_PER_IDENTIFIER_CEILING`: `/login/` requests per identifier
    /// per window from all addresses together (default 20; 0: off). The limit above is
    /// counted per identifier *and* client address, so requests from elsewhere cannot lock
    /// an address's owner out; this ceiling still bounds the e-mails it is sent.
    #[serde(rename = "NETS_CORE_LOGIN_CODES_PER_IDENTIFIER_CEILING")]
    pub login_codes_per_identifier_ceiling: u64,
    /// `NETS_CORE_CODE_CHECKS_PER_ACCOUNT_PER_HOUR`: code checks (`/authenticate/`,
    /// `/delete/`) per identifier and device per hour (default 10; 0: off).
    #[serde(rename = "NETS_CORE_CODE_CHECKS_PER_ACCOUNT_PER_HOUR")]
    pub code_checks_per_account_per_hour: u64,
    /// `NETS_CORE_CODE_CHECKS_PER_ACCOUNT_PER_DAY`: the same per day (default 30; 0: off).
    /// With the hourly limit, a guesser backs off for an hour, then a day; counted per
    /// device, so guesses without the owner's device do not block the owner's own login.
    #[serde(rename = "NETS_CORE_CODE_CHECKS_PER_ACCOUNT_PER_DAY")]
    pub code_checks_per_account_per_day: u64,
    /// `NETS_CORE_LOGIN_REQUESTS_PER_IP`: `/login/` requests per client address per window
    /// (default 30; 0: off).
    #[serde(rename = "NETS_CORE_LOGIN_REQUESTS_PER_IP")]
    pub login_requests_per_ip: u64,
    /// `NETS_CORE_CODE_CHECKS_PER_IP`: code checks (`/authenticate/`, `/delete/`) per
    /// client address per window (default 30; 0: off). Each code also dies after five
    /// wrong tries, whatever this says.
    #[serde(rename = "NETS_CORE_CODE_CHECKS_PER_IP")]
    pub code_checks_per_ip: u64,
    /// `NETS_CORE_LOGIN_RATE_WINDOW_SECONDS`: the window of the three limits above
    /// (default 600).
    #[serde(rename = "NETS_CORE_LOGIN_RATE_WINDOW_SECONDS")]
    pub login_rate_window_seconds: u64,
    /// `NETS_CORE_DELETE_ACCOUNT_TEMPLATE`: a minijinja file replacing the `/requestDelete/` page.
    #[serde(rename = "NETS_CORE_DELETE_ACCOUNT_TEMPLATE")]
    pub delete_account_template: Option<String>,
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
    /// `NETS_CORE_JOBS_CONCURRENCY`: jobs of each type one worker runs at once (default 4).
    #[serde(rename = "NETS_CORE_JOBS_CONCURRENCY")]
    pub jobs_concurrency: usize,
    /// `NETS_CORE_JOBS_HEARTBEAT_SECONDS`: worker heartbeat; the jobs of a worker silent
    /// for two beats are handed to another worker (default 30).
    #[serde(rename = "NETS_CORE_JOBS_HEARTBEAT_SECONDS")]
    pub jobs_heartbeat_seconds: u64,
    /// `NETS_CORE_JOBS_POLL_MS`: how often an idle worker looks for new jobs of each of
    /// its job types, in milliseconds (default 200).
    #[serde(rename = "NETS_CORE_JOBS_POLL_MS")]
    pub jobs_poll_ms: u64,
    /// `NETS_CORE_JOBS_IN_SERVER`: the server process runs a worker too (default true);
    /// turn off when dedicated `worker` processes do the work.
    #[serde(rename = "NETS_CORE_JOBS_IN_SERVER")]
    pub jobs_in_server: bool,
    // --- Push notifications (`push` feature) ---
    /// `FIREBASE_CONFIG`: the Google service account pushes are sent with, as a file path
    /// or the JSON itself (never shown by `Debug`). Empty: the `FIREBASE_CONFIG`
    /// environment variable, as in the original; unset there too, pushes are logged in
    /// `DEBUG` and recorded as failed (`not_configured`) otherwise.
    #[serde(rename = "FIREBASE_CONFIG")]
    #[schema(value_type = String)]
    pub firebase_config: Secret,
    /// `NETS_CORE_FCM_BASE_URL`: FCM's base URL (default `https://fcm.googleapis.com`);
    /// point it (and the service account's `token_uri`) at a local peer for tests or
    /// staging.
    #[serde(rename = "NETS_CORE_FCM_BASE_URL")]
    pub fcm_base_url: String,
    /// `NETS_CORE_PUSH_TIMEOUT_SECONDS`: seconds before one call to FCM or to the token
    /// endpoint gives up (default 10).
    #[serde(rename = "NETS_CORE_PUSH_TIMEOUT_SECONDS")]
    pub push_timeout_seconds: u64,
    /// `NETS_CORE_PUSH_CONCURRENCY`: pushes in flight at once per process, across every
    /// fan-out (default 32).
    #[serde(rename = "NETS_CORE_PUSH_CONCURRENCY")]
    pub push_concurrency: usize,
    /// `NETS_CORE_PUSH_MAX_RETRIES`: retries of one push on 429, 500, 503, a timeout or a
    /// refused connection before the delivery is left to the fan-out job's next attempt
    /// (default 3).
    #[serde(rename = "NETS_CORE_PUSH_MAX_RETRIES")]
    pub push_max_retries: u32,
    /// `NETS_CORE_PUSH_BACKOFF_MS`: first retry delay in milliseconds, doubled on every
    /// retry, unless FCM sends `Retry-After` (default 500).
    #[serde(rename = "NETS_CORE_PUSH_BACKOFF_MS")]
    pub push_backoff_ms: u64,
    /// `NETS_CORE_PUSH_BACKOFF_MAX_MS`: longest wait before a retry, `Retry-After`
    /// included (default 30000); a longer one leaves the delivery to the job's next attempt.
    #[serde(rename = "NETS_CORE_PUSH_BACKOFF_MAX_MS")]
    pub push_backoff_max_ms: u64,
    /// `NETS_CORE_PUSH_ANDROID_PRIORITY`: Android message priority (default `high`).
    #[serde(rename = "NETS_CORE_PUSH_ANDROID_PRIORITY")]
    pub push_android_priority: String,
    /// `NETS_CORE_PUSH_ANDROID_ICON`: Android notification icon (default `ic_launcher`).
    #[serde(rename = "NETS_CORE_PUSH_ANDROID_ICON")]
    pub push_android_icon: String,
    /// `NETS_CORE_PUSH_ANDROID_COLOR`: Android notification colour (default `#f45342`).
    #[serde(rename = "NETS_CORE_PUSH_ANDROID_COLOR")]
    pub push_android_color: String,
    /// `NETS_CORE_PUSH_ANDROID_CHANNEL`: Android channel of notifications that name none
    /// (default `default`).
    #[serde(rename = "NETS_CORE_PUSH_ANDROID_CHANNEL")]
    pub push_android_channel: String,
    // --- Social login (`social` feature) ---
    /// `GOOGLE_CLIENT_ID`: the OAuth client ids Google ID tokens may be issued to (their
    /// `aud`): one, or a list (Android, iOS and web ids differ). Empty: the Google
    /// endpoints answer 400 `Google client id not set`.
    #[serde(rename = "GOOGLE_CLIENT_ID", deserialize_with = "one_or_many")]
    pub google_client_id: Vec<String>,
    /// `GOOGLE_CLIENT_SECRET`: the secret of the first `GOOGLE_CLIENT_ID` (a web client),
    /// for the authorization-code flow only (never shown by `Debug`).
    #[serde(rename = "GOOGLE_CLIENT_SECRET")]
    #[schema(value_type = String)]
    pub google_client_secret: Secret,
    /// `NETS_CORE_GOOGLE_TOKEN_URL`: Google's token endpoint (default
    /// `https://oauth2.googleapis.com/token`).
    #[serde(rename = "NETS_CORE_GOOGLE_TOKEN_URL")]
    pub google_token_url: String,
    /// `NETS_CORE_GOOGLE_HOSTED_DOMAIN`: only accept Google accounts of this Workspace
    /// domain (the token's `hd`). Empty: any account.
    #[serde(rename = "NETS_CORE_GOOGLE_HOSTED_DOMAIN")]
    pub google_hosted_domain: String,
    /// `NETS_CORE_GOOGLE_JWKS_URL`: Google's signing keys (default
    /// `https://www.googleapis.com/oauth2/v3/certs`).
    #[serde(rename = "NETS_CORE_GOOGLE_JWKS_URL")]
    pub google_jwks_url: String,
    /// `APPLE_CLIENT_ID`: the bundle ids and services ids Apple ID tokens may be issued
    /// to; one or a list.
    #[serde(rename = "APPLE_CLIENT_ID", deserialize_with = "one_or_many")]
    pub apple_client_id: Vec<String>,
    /// `NETS_CORE_APPLE_JWKS_URL`: Apple's signing keys (default
    /// `https://appleid.apple.com/auth/keys`).
    #[serde(rename = "NETS_CORE_APPLE_JWKS_URL")]
    pub apple_jwks_url: String,
    /// `MICROSOFT_CLIENT_ID`: the application (client) ids of the Microsoft identity
    /// platform ID tokens may be issued to; one or a list.
    #[serde(rename = "MICROSOFT_CLIENT_ID", deserialize_with = "one_or_many")]
    pub microsoft_client_id: Vec<String>,
    /// `MICROSOFT_TENANT`: a tenant id, or `common` (default), `organizations` or
    /// `consumers`; the token's `tid` must fit it and its `iss` must name that `tid`.
    #[serde(rename = "MICROSOFT_TENANT")]
    pub microsoft_tenant: String,
    /// `MICROSOFT_CLIENT_SECRET`: the secret of the first `MICROSOFT_CLIENT_ID`, for the
    /// authorization-code flow only (never shown by `Debug`).
    #[serde(rename = "MICROSOFT_CLIENT_SECRET")]
    #[schema(value_type = String)]
    pub microsoft_client_secret: Secret,
    /// `NETS_CORE_MICROSOFT_TOKEN_URL`: the identity platform's token endpoint (default
    /// `https://login.microsoftonline.com/common/oauth2/v2.0/token`).
    #[serde(rename = "NETS_CORE_MICROSOFT_TOKEN_URL")]
    pub microsoft_token_url: String,
    /// `NETS_CORE_MICROSOFT_JWKS_URL`: the identity platform's signing keys (default
    /// `https://login.microsoftonline.com/common/discovery/v2.0/keys`).
    #[serde(rename = "NETS_CORE_MICROSOFT_JWKS_URL")]
    pub microsoft_jwks_url: String,
    /// `NETS_CORE_MICROSOFT_ISSUER_URL`: the issuer template, `{tenantid}` standing for
    /// the token's `tid` (default `https://login.microsoftonline.com/{tenantid}/v2.0`).
    #[serde(rename = "NETS_CORE_MICROSOFT_ISSUER_URL")]
    pub microsoft_issuer_url: String,
    /// `FACEBOOK_APP_ID`: the Facebook app user tokens must belong to.
    #[serde(rename = "FACEBOOK_APP_ID", deserialize_with = "text_or_number")]
    pub facebook_app_id: String,
    /// `FACEBOOK_APP_SECRET`: its secret (the app access token and `appsecret_proof`;
    /// never shown by `Debug`).
    #[serde(rename = "FACEBOOK_APP_SECRET")]
    #[schema(value_type = String)]
    pub facebook_app_secret: Secret,
    /// `NETS_CORE_FACEBOOK_GRAPH_URL`: the Graph API, version included (default
    /// `https://graph.facebook.com/v19.0`).
    #[serde(rename = "NETS_CORE_FACEBOOK_GRAPH_URL")]
    pub facebook_graph_url: String,
    /// `NETS_CORE_SOCIAL_AVATAR_FIELD`: the user file field (one of
    /// `NETS_CORE_USER_FILE_FIELDS`) a social login's profile picture is downloaded into
    /// while it is empty (default `avatar`; not a file field: no download).
    #[serde(rename = "NETS_CORE_SOCIAL_AVATAR_FIELD")]
    pub social_avatar_field: String,
    /// `NETS_CORE_FACEBOOK_JWKS_URL`: the keys of Facebook Limited Login ID tokens (iOS;
    /// default `https://limited.facebook.com/.well-known/oauth/openid/jwks/`).
    #[serde(rename = "NETS_CORE_FACEBOOK_JWKS_URL")]
    pub facebook_jwks_url: String,
    /// `GITHUB_CLIENT_ID`: the GitHub OAuth app tokens must belong to.
    #[serde(rename = "GITHUB_CLIENT_ID")]
    pub github_client_id: String,
    /// `GITHUB_CLIENT_SECRET`: its secret (never shown by `Debug`).
    #[serde(rename = "GITHUB_CLIENT_SECRET")]
    #[schema(value_type = String)]
    pub github_client_secret: Secret,
    /// `NETS_CORE_GITHUB_TOKEN_URL`: where authorization codes are exchanged (default
    /// `https://github.com/login/oauth/access_token`).
    #[serde(rename = "NETS_CORE_GITHUB_TOKEN_URL")]
    pub github_token_url: String,
    /// `NETS_CORE_GITHUB_API_URL`: GitHub's REST API (default `https://api.github.com`).
    #[serde(rename = "NETS_CORE_GITHUB_API_URL")]
    pub github_api_url: String,
    /// `NETS_CORE_SOCIAL_TIMEOUT_SECONDS`: seconds before one call to a provider gives up
    /// (default 10).
    #[serde(rename = "NETS_CORE_SOCIAL_TIMEOUT_SECONDS")]
    pub social_timeout_seconds: u64,
    /// `NETS_CORE_SOCIAL_JWKS_MIN_REFRESH_SECONDS`: a token signed with a key nets does not
    /// know makes it fetch the provider's keys again, at most once per this many seconds
    /// (default 60), so forged key ids cannot make it hammer the provider.
    #[serde(rename = "NETS_CORE_SOCIAL_JWKS_MIN_REFRESH_SECONDS")]
    pub social_jwks_min_refresh_seconds: u64,
    /// `NETS_CORE_SOCIAL_UNVERIFIED_EMAIL`: what a first social login whose provider does
    /// not vouch for the e-mail address does: `refuse` (default: the user logs in with an
    /// e-mail code first, then the social login links) or `create` (a new, unverified
    /// account when no account has the address; never a link to an existing one).
    #[serde(rename = "NETS_CORE_SOCIAL_UNVERIFIED_EMAIL")]
    pub social_unverified_email: String,

    // Real-time (WebSockets, feature `realtime`)
    /// `NETS_CORE_WS_PING_SECONDS`: seconds between the pings a live socket is sent
    /// (default 20), so proxies keep it open and dead peers are found.
    #[serde(rename = "NETS_CORE_WS_PING_SECONDS")]
    pub ws_ping_seconds: u64,
    /// `NETS_CORE_WS_IDLE_SECONDS`: a socket whose peer sends nothing (not even a pong)
    /// for this long is closed (default 60; close code 1001).
    #[serde(rename = "NETS_CORE_WS_IDLE_SECONDS")]
    pub ws_idle_seconds: u64,
    /// `NETS_CORE_WS_MAX_MESSAGE_BYTES`: largest message a client may send (default
    /// 65 536); a larger one closes the socket with 1009.
    #[serde(rename = "NETS_CORE_WS_MAX_MESSAGE_BYTES")]
    pub ws_max_message_bytes: usize,
    /// `NETS_CORE_WS_SEND_QUEUE`: messages waiting to be written to one socket (default
    /// 64). A client that reads so slowly that its queue fills is closed (1008), so it
    /// cannot grow the server's memory nor delay other sockets.
    #[serde(rename = "NETS_CORE_WS_SEND_QUEUE")]
    pub ws_send_queue: usize,
    /// `NETS_CORE_WS_WRITE_TIMEOUT_SECONDS`: a write to a socket that takes longer (the
    /// peer stopped reading) drops the connection (default 10).
    #[serde(rename = "NETS_CORE_WS_WRITE_TIMEOUT_SECONDS")]
    pub ws_write_timeout_seconds: u64,
    /// `NETS_CORE_WS_TICKET_SECONDS`: lifetime of a single-use socket ticket from
    /// `POST /ws/ticket/` (default 30).
    #[serde(rename = "NETS_CORE_WS_TICKET_SECONDS")]
    pub ws_ticket_seconds: u64,
    /// `NETS_CORE_WS_REVOCATION_CHECK_MS`: how often an instance with live sockets reads
    /// the token generation to close the sockets of revoked tokens (default 500).
    #[serde(rename = "NETS_CORE_WS_REVOCATION_CHECK_MS")]
    pub ws_revocation_check_ms: u64,
    /// `NETS_CORE_WS_CHANNEL_LAYER`: `auto` (default: `redis` when `REDIS_URL` is set,
    /// else `memory`), `memory` (one process) or `redis` (Redis pub/sub: every instance
    /// delivers to its own sockets).
    #[serde(rename = "NETS_CORE_WS_CHANNEL_LAYER")]
    pub ws_channel_layer: String,
    /// `NETS_CORE_WS_REDIS_CHANNEL`: the Redis pub/sub channel of the channel layer
    /// (default `nets:realtime`); instances of one app share it.
    #[serde(rename = "NETS_CORE_WS_REDIS_CHANNEL")]
    pub ws_redis_channel: String,
}

/// `Debug` shows every setting but never a secret: `SECRET_KEY` and the passwords are
/// `***`, and so is the password inside `DATABASE_URL`, `REDIS_URL` and
/// `NETS_CORE_JOBS_URL` (`postgres://app:***@db/app`), so logging the settings at
/// startup leaks nothing.
///
/// ```
/// let s = nets_runtime::Settings::from_toml(
///     "DATABASE_URL = 'postgres://app:hunter2@db/app'\nREDIS_URL = 'redis://:s3cret@cache:6379/0'",
/// ).unwrap();
/// let shown = format!("{s:?}");
/// assert!(shown.contains("postgres://app:***@db/app") && shown.contains("redis://:***@cache:6379/0"));
/// assert!(!shown.contains("hunter2") && !shown.contains("s3cret"));
/// ```
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured without `..`: a new setting does not compile until it is shown here.
        let Settings {
            debug,
            time_zone,
            database_url,
            database_max_connections,
            migrate_on_startup,
            media_root,
            max_body_size,
            compress_json_above_bytes,
            max_fields,
            page_size,
            page_size_max,
            header_read_timeout_seconds,
            body_read_timeout_seconds,
            max_connections,
            openapi_title,
            openapi_version,
            openapi_description,
            openapi_tags,
            openapi_modules,
            docs_enabled,
            cors_allowed_origins,
            cors_allow_all_origins,
            cors_allow_credentials,
            x_frame_options,
            secure_content_type_nosniff,
            secure_referrer_policy,
            secure_cross_origin_opener_policy,
            protected_fields,
            user_identifier,
            user_json_fields,
            user_updatable_fields,
            user_file_fields,
            user_file_types,
            user_file_max_bytes,
            project_model,
            project_member_model,
            project_role_model,
            project_role_name_field,
            permissions_sync,
            permissions_cache_seconds,
            permissions_cache_entries,
            permissions_startup,
            permissions_redis_key,
            redis_url,
            secret_key,
            secure_cache_key,
            cache_key_prefix,
            cache_max_entries,
            access_token_expire_seconds,
            refresh_token_expire_seconds,
            refresh_token_max_age_seconds,
            token_cache_seconds,
            token_cache_entries,
            token_cache_redis_key,
            trusted_proxies,
            default_from_email,
            email_backend,
            email_file_path,
            email_host,
            email_port,
            email_host_user,
            email_host_password,
            email_use_tls,
            email_use_ssl,
            email_timeout,
            email_pool_size,
            email_debug_enabled,
            email_console_allowed,
            verification_code_expire_seconds,
            verification_code_length,
            debug_verification_code,
            testers_emails,
            testers_verification_code,
            user_prohibited_fields,
            login_codes_per_identifier,
            login_codes_per_identifier_ceiling,
            code_checks_per_account_per_hour,
            code_checks_per_account_per_day,
            login_requests_per_ip,
            code_checks_per_ip,
            login_rate_window_seconds,
            delete_account_template,
            email_exclude_domains,
            email_footer_enabled,
            email_footer,
            email_footer_template,
            email_templates_dir,
            jobs_url,
            jobs_queue_prefix,
            jobs_max_attempts,
            jobs_backoff_ms,
            jobs_backoff_max_ms,
            jobs_concurrency,
            jobs_heartbeat_seconds,
            jobs_poll_ms,
            jobs_in_server,
            firebase_config,
            fcm_base_url,
            push_timeout_seconds,
            push_concurrency,
            push_max_retries,
            push_backoff_ms,
            push_backoff_max_ms,
            push_android_priority,
            push_android_icon,
            push_android_color,
            push_android_channel,
            google_client_id,
            google_hosted_domain,
            google_jwks_url,
            apple_client_id,
            apple_jwks_url,
            microsoft_client_id,
            microsoft_tenant,
            microsoft_jwks_url,
            microsoft_issuer_url,
            facebook_app_id,
            facebook_app_secret,
            facebook_graph_url,
            github_client_id,
            github_client_secret,
            github_api_url,
            social_timeout_seconds,
            social_jwks_min_refresh_seconds,
            social_unverified_email,
            ws_ping_seconds,
            ws_idle_seconds,
            ws_max_message_bytes,
            ws_send_queue,
            ws_write_timeout_seconds,
            ws_ticket_seconds,
            ws_revocation_check_ms,
            ws_channel_layer,
            ws_redis_channel,
            facebook_jwks_url,
            social_avatar_field,
            google_client_secret,
            google_token_url,
            microsoft_client_secret,
            microsoft_token_url,
            github_token_url,
        } = self;
        f.debug_struct("Settings")
            .field("debug", debug)
            .field("time_zone", time_zone)
            .field("database_url", &MaskedUrl(database_url))
            .field("database_max_connections", database_max_connections)
            .field("migrate_on_startup", migrate_on_startup)
            .field("media_root", media_root)
            .field("max_body_size", max_body_size)
            .field("compress_json_above_bytes", compress_json_above_bytes)
            .field("max_fields", max_fields)
            .field("page_size", page_size)
            .field("page_size_max", page_size_max)
            .field("header_read_timeout_seconds", header_read_timeout_seconds)
            .field("body_read_timeout_seconds", body_read_timeout_seconds)
            .field("max_connections", max_connections)
            .field("openapi_title", openapi_title)
            .field("openapi_version", openapi_version)
            .field("openapi_description", openapi_description)
            .field("openapi_tags", openapi_tags)
            .field("openapi_modules", openapi_modules)
            .field("docs_enabled", docs_enabled)
            .field("cors_allowed_origins", cors_allowed_origins)
            .field("cors_allow_all_origins", cors_allow_all_origins)
            .field("cors_allow_credentials", cors_allow_credentials)
            .field("x_frame_options", x_frame_options)
            .field("secure_content_type_nosniff", secure_content_type_nosniff)
            .field("secure_referrer_policy", secure_referrer_policy)
            .field("secure_cross_origin_opener_policy", secure_cross_origin_opener_policy)
            .field("protected_fields", protected_fields)
            .field("user_identifier", user_identifier)
            .field("user_json_fields", user_json_fields)
            .field("user_updatable_fields", user_updatable_fields)
            .field("user_file_fields", user_file_fields)
            .field("user_file_types", user_file_types)
            .field("user_file_max_bytes", user_file_max_bytes)
            .field("project_model", project_model)
            .field("project_member_model", project_member_model)
            .field("project_role_model", project_role_model)
            .field("project_role_name_field", project_role_name_field)
            .field("permissions_sync", permissions_sync)
            .field("permissions_cache_seconds", permissions_cache_seconds)
            .field("permissions_cache_entries", permissions_cache_entries)
            .field("permissions_startup", permissions_startup)
            .field("permissions_redis_key", permissions_redis_key)
            .field("redis_url", &redis_url.as_deref().map(MaskedUrl))
            .field("secret_key", secret_key)
            .field("secure_cache_key", secure_cache_key)
            .field("cache_key_prefix", cache_key_prefix)
            .field("cache_max_entries", cache_max_entries)
            .field("access_token_expire_seconds", access_token_expire_seconds)
            .field("refresh_token_expire_seconds", refresh_token_expire_seconds)
            .field("refresh_token_max_age_seconds", refresh_token_max_age_seconds)
            .field("token_cache_seconds", token_cache_seconds)
            .field("token_cache_entries", token_cache_entries)
            .field("token_cache_redis_key", token_cache_redis_key)
            .field("trusted_proxies", trusted_proxies)
            .field("default_from_email", default_from_email)
            .field("email_backend", email_backend)
            .field("email_file_path", email_file_path)
            .field("email_host", email_host)
            .field("email_port", email_port)
            .field("email_host_user", email_host_user)
            .field("email_host_password", email_host_password)
            .field("email_use_tls", email_use_tls)
            .field("email_use_ssl", email_use_ssl)
            .field("email_timeout", email_timeout)
            .field("email_pool_size", email_pool_size)
            .field("email_debug_enabled", email_debug_enabled)
            .field("email_console_allowed", email_console_allowed)
            .field("verification_code_expire_seconds", verification_code_expire_seconds)
            .field("verification_code_length", verification_code_length)
            .field("debug_verification_code", debug_verification_code)
            .field("testers_emails", testers_emails)
            .field("testers_verification_code", testers_verification_code)
            .field("user_prohibited_fields", user_prohibited_fields)
            .field("login_codes_per_identifier", login_codes_per_identifier)
            .field("login_codes_per_identifier_ceiling", login_codes_per_identifier_ceiling)
            .field("code_checks_per_account_per_hour", code_checks_per_account_per_hour)
            .field("code_checks_per_account_per_day", code_checks_per_account_per_day)
            .field("login_requests_per_ip", login_requests_per_ip)
            .field("code_checks_per_ip", code_checks_per_ip)
            .field("login_rate_window_seconds", login_rate_window_seconds)
            .field("delete_account_template", delete_account_template)
            .field("email_exclude_domains", email_exclude_domains)
            .field("email_footer_enabled", email_footer_enabled)
            .field("email_footer", email_footer)
            .field("email_footer_template", email_footer_template)
            .field("email_templates_dir", email_templates_dir)
            .field("jobs_url", &MaskedUrl(jobs_url))
            .field("jobs_queue_prefix", jobs_queue_prefix)
            .field("jobs_max_attempts", jobs_max_attempts)
            .field("jobs_backoff_ms", jobs_backoff_ms)
            .field("jobs_backoff_max_ms", jobs_backoff_max_ms)
            .field("jobs_concurrency", jobs_concurrency)
            .field("jobs_heartbeat_seconds", jobs_heartbeat_seconds)
            .field("jobs_poll_ms", jobs_poll_ms)
            .field("jobs_in_server", jobs_in_server)
            .field("firebase_config", firebase_config)
            .field("fcm_base_url", fcm_base_url)
            .field("push_timeout_seconds", push_timeout_seconds)
            .field("push_concurrency", push_concurrency)
            .field("push_max_retries", push_max_retries)
            .field("push_backoff_ms", push_backoff_ms)
            .field("push_backoff_max_ms", push_backoff_max_ms)
            .field("push_android_priority", push_android_priority)
            .field("push_android_icon", push_android_icon)
            .field("push_android_color", push_android_color)
            .field("push_android_channel", push_android_channel)
            .field("google_client_id", google_client_id)
            .field("google_hosted_domain", google_hosted_domain)
            .field("google_jwks_url", google_jwks_url)
            .field("apple_client_id", apple_client_id)
            .field("apple_jwks_url", apple_jwks_url)
            .field("microsoft_client_id", microsoft_client_id)
            .field("microsoft_tenant", microsoft_tenant)
            .field("microsoft_jwks_url", microsoft_jwks_url)
            .field("microsoft_issuer_url", microsoft_issuer_url)
            .field("facebook_app_id", facebook_app_id)
            .field("facebook_app_secret", facebook_app_secret)
            .field("facebook_graph_url", facebook_graph_url)
            .field("github_client_id", github_client_id)
            .field("github_client_secret", github_client_secret)
            .field("github_api_url", github_api_url)
            .field("social_timeout_seconds", social_timeout_seconds)
            .field("social_jwks_min_refresh_seconds", social_jwks_min_refresh_seconds)
            .field("social_unverified_email", social_unverified_email)
            .field("ws_ping_seconds", ws_ping_seconds)
            .field("ws_idle_seconds", ws_idle_seconds)
            .field("ws_max_message_bytes", ws_max_message_bytes)
            .field("ws_send_queue", ws_send_queue)
            .field("ws_write_timeout_seconds", ws_write_timeout_seconds)
            .field("ws_ticket_seconds", ws_ticket_seconds)
            .field("ws_revocation_check_ms", ws_revocation_check_ms)
            .field("ws_channel_layer", ws_channel_layer)
            .field("ws_redis_channel", ws_redis_channel)
            .field("facebook_jwks_url", facebook_jwks_url)
            .field("social_avatar_field", social_avatar_field)
            .field("google_client_secret", google_client_secret)
            .field("google_token_url", google_token_url)
            .field("microsoft_client_secret", microsoft_client_secret)
            .field("microsoft_token_url", microsoft_token_url)
            .field("github_token_url", github_token_url)
            .finish()
    }
}

/// A URL shown with its password (in the user info, or a `password=` query parameter)
/// replaced by `***`.
struct MaskedUrl<'a>(&'a str);

impl std::fmt::Debug for MaskedUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&mask_url_password(self.0), f)
    }
}

/// `scheme://user:password@host/..?password=..` with both passwords replaced by `***`.
pub(crate) fn mask_url_password(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_len = out[authority_start..].find(['/', '?', '#']).unwrap_or(out.len() - authority_start);
        let authority = &out[authority_start..authority_start + authority_len];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
        {
            out.replace_range(authority_start + colon + 1..authority_start + at, "***");
        }
    }
    if let Some(query_start) = out.find('?') {
        let (head, query) = out.split_at(query_start + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{head}{}", masked.join("&"));
    }
    out
}

/// `NETS_CORE_PERMISSIONS_SYNC` values.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PermissionsSync {
    /// `redis` when `REDIS_URL` is set, else `database` on PostgreSQL, else `local`.
    #[default]
    Auto,
    /// One process: changes are seen by the instance that made them only.
    Local,
    /// A generation row in the database, read once per check (no Redis needed).
    Database,
    /// A generation key in Redis, read once per check.
    Redis,
}

/// `NETS_CORE_PERMISSIONS_STARTUP` values.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PermissionsStartup {
    /// Nothing.
    #[default]
    Off,
    /// Create every `can_do` permission that does not exist yet.
    Register,
    /// Fail startup when a `can_do` permission does not exist.
    Verify,
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
            compress_json_above_bytes: 0,
            max_fields: 1000,
            page_size: 25,
            page_size_max: 100,
            header_read_timeout_seconds: 10,
            body_read_timeout_seconds: 30,
            max_connections: 10_000,
            openapi_title: "NETS CORE API".into(),
            openapi_version: "1.0.0".into(),
            openapi_description: "Auto-generated OpenAPI schema from request_handler route metadata.".into(),
            openapi_tags: Vec::new(),
            openapi_modules: Vec::new(),
            docs_enabled: true,
            cors_allowed_origins: Vec::new(),
            cors_allow_all_origins: false,
            cors_allow_credentials: false,
            x_frame_options: "DENY".into(),
            secure_content_type_nosniff: true,
            secure_referrer_policy: "same-origin".into(),
            secure_cross_origin_opener_policy: "same-origin".into(),
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
            user_json_fields: [
                "id",
                "email",
                "username",
                "first_name",
                "last_name",
                "email_verified",
                "last_login",
                "date_joined",
            ]
            .map(String::from)
            .to_vec(),
            user_updatable_fields: ["first_name", "last_name"].map(String::from).to_vec(),
            user_file_fields: Vec::new(),
            user_file_types: ["image/png", "image/jpeg", "image/gif", "image/webp"].map(String::from).to_vec(),
            user_file_max_bytes: 5 * 1024 * 1024,
            project_model: None,
            project_member_model: None,
            project_role_model: None,
            project_role_name_field: "name".into(),
            permissions_sync: PermissionsSync::Auto,
            permissions_cache_seconds: 60,
            permissions_cache_entries: 100_000,
            permissions_startup: PermissionsStartup::Off,
            permissions_redis_key: "nets:perms:generation".into(),
            redis_url: None,
            secret_key: None,
            secure_cache_key: None,
            cache_key_prefix: "nets:".into(),
            cache_max_entries: 100_000,
            access_token_expire_seconds: 3600,
            refresh_token_expire_seconds: 30 * 24 * 3600,
            refresh_token_max_age_seconds: 90 * 24 * 3600,
            token_cache_seconds: 10,
            token_cache_entries: 10_000,
            token_cache_redis_key: "nets:tokens:generation".into(),
            trusted_proxies: Vec::new(),
            default_from_email: "webmaster@localhost".into(),
            email_backend: String::new(),
            email_file_path: "sent_emails".into(),
            email_host: String::new(),
            email_port: 25,
            email_host_user: String::new(),
            email_host_password: Secret::default(),
            email_use_tls: false,
            email_use_ssl: false,
            email_timeout: 30,
            email_pool_size: 4,
            email_debug_enabled: false,
            email_console_allowed: false,
            verification_code_expire_seconds: 600,
            verification_code_length: 6,
            debug_verification_code: "123456".to_owned(),
            testers_emails: Vec::new(),
            testers_verification_code: None,
            user_prohibited_fields: Vec::new(),
            login_codes_per_identifier: 5,
            login_codes_per_identifier_ceiling: 20,
            code_checks_per_account_per_hour: 10,
            code_checks_per_account_per_day: 30,
            login_requests_per_ip: 30,
            code_checks_per_ip: 30,
            login_rate_window_seconds: 600,
            delete_account_template: None,
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
            firebase_config: Secret::default(),
            fcm_base_url: "https://fcm.googleapis.com".into(),
            push_timeout_seconds: 10,
            push_concurrency: 32,
            push_max_retries: 3,
            push_backoff_ms: 500,
            push_backoff_max_ms: 30_000,
            push_android_priority: "high".into(),
            push_android_icon: "ic_launcher".into(),
            push_android_color: "#f45342".into(),
            push_android_channel: "default".into(),
            google_client_id: Vec::new(),
            google_hosted_domain: String::new(),
            google_jwks_url: "https://www.googleapis.com/oauth2/v3/certs".into(),
            apple_client_id: Vec::new(),
            apple_jwks_url: "https://appleid.apple.com/auth/keys".into(),
            microsoft_client_id: Vec::new(),
            microsoft_tenant: "common".into(),
            microsoft_jwks_url: "https://login.microsoftonline.com/common/discovery/v2.0/keys".into(),
            microsoft_issuer_url: "https://login.microsoftonline.com/{tenantid}/v2.0".into(),
            facebook_app_id: String::new(),
            facebook_app_secret: Secret::default(),
            facebook_graph_url: "https://graph.facebook.com/v19.0".into(),
            github_client_id: String::new(),
            github_client_secret: Secret::default(),
            github_api_url: "https://api.github.com".into(),
            social_timeout_seconds: 10,
            social_jwks_min_refresh_seconds: 60,
            social_unverified_email: "refuse".into(),
            ws_ping_seconds: 20,
            ws_idle_seconds: 60,
            ws_max_message_bytes: 65_536,
            ws_send_queue: 64,
            ws_write_timeout_seconds: 10,
            ws_ticket_seconds: 30,
            ws_revocation_check_ms: 500,
            ws_channel_layer: "auto".into(),
            ws_redis_channel: "nets:realtime".into(),
            facebook_jwks_url: "https://limited.facebook.com/.well-known/oauth/openid/jwks/".into(),
            social_avatar_field: "avatar".into(),
            google_client_secret: Secret::default(),
            google_token_url: "https://oauth2.googleapis.com/token".into(),
            microsoft_client_secret: Secret::default(),
            microsoft_token_url: "https://login.microsoftonline.com/common/oauth2/v2.0/token".into(),
            github_token_url: "https://github.com/login/oauth/access_token".into(),
        }
    }
}

/// One value or a list of them (`GOOGLE_CLIENT_ID = "a"` or `["a", "b"]`; from the
/// environment also `a,b`), blanks dropped.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let values = match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(text) => text.split(',').map(str::to_owned).collect(),
        OneOrMany::Many(values) => values,
    };
    Ok(values.into_iter().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect())
}

/// Text, or a number written without quotes (Facebook app ids are numbers).
fn text_or_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Number(u64),
    }
    Ok(match TextOrNumber::deserialize(deserializer)? {
        TextOrNumber::Text(text) => text,
        TextOrNumber::Number(number) => number.to_string(),
    })
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
/// Settings read from the environment verbatim, outside figment (see `load_from`).
pub(crate) const VERBATIM_ENV_KEYS: [&str; 8] = [
    "SECRET_KEY",
    "NETS_CORE_SECURE_CACHE_KEY",
    // Facebook app ids are numbers; ids and secrets are text whatever they look like.
    "FACEBOOK_APP_ID",
    "FACEBOOK_APP_SECRET",
    "GITHUB_CLIENT_ID",
    "GITHUB_CLIENT_SECRET",
    "GOOGLE_CLIENT_SECRET",
    "MICROSOFT_CLIENT_SECRET",
];

/// Whether the environment variable named `key` sets the setting `key`.
#[cfg(any(feature = "cli", test))]
pub(crate) fn read_from_environment(key: &str) -> bool {
    ENV_KEYS.contains(&key) || VERBATIM_ENV_KEYS.contains(&key)
}

pub(crate) const ENV_KEYS: &[&str] = &[
    "DEBUG",
    "TIME_ZONE",
    "DATABASE_URL",
    "NETS_CORE_DATABASE_MAX_CONNECTIONS",
    "NETS_CORE_MIGRATE_ON_STARTUP",
    "MEDIA_ROOT",
    "NETS_CORE_MAX_BODY_SIZE",
    "NETS_CORE_COMPRESS_JSON_ABOVE_BYTES",
    "NETS_CORE_MAX_FIELDS",
    "NETS_CORE_PAGE_SIZE",
    "NETS_CORE_PAGE_SIZE_MAX",
    "NETS_CORE_HEADER_READ_TIMEOUT_SECONDS",
    "NETS_CORE_BODY_READ_TIMEOUT_SECONDS",
    "NETS_CORE_MAX_CONNECTIONS",
    "NETS_CORE_OPENAPI_TITLE",
    "NETS_CORE_OPENAPI_VERSION",
    "NETS_CORE_OPENAPI_DESCRIPTION",
    "NETS_CORE_OPENAPI_TAGS",
    "NETS_CORE_OPENAPI_MODULES",
    "NETS_CORE_DOCS_ENABLED",
    "CORS_ALLOWED_ORIGINS",
    "CORS_ALLOW_ALL_ORIGINS",
    "CORS_ALLOW_CREDENTIALS",
    "X_FRAME_OPTIONS",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "NETS_CORE_PROTECTED_FIELDS",
    "NETS_CORE_USER_IDENTIFIER",
    "NETS_CORE_USER_JSON_FIELDS",
    "NETS_CORE_USER_UPDATABLE_FIELDS",
    "NETS_CORE_USER_FILE_FIELDS",
    "NETS_CORE_USER_FILE_TYPES",
    "NETS_CORE_USER_FILE_MAX_BYTES",
    "NETS_CORE_PROJECT_MODEL",
    "NETS_CORE_PROJECT_MEMBER_MODEL",
    "NETS_CORE_PROJECT_ROLE_MODEL",
    "NETS_CORE_PROJECT_ROLE_NAME_FIELD",
    "NETS_CORE_PERMISSIONS_SYNC",
    "NETS_CORE_PERMISSIONS_CACHE_SECONDS",
    "NETS_CORE_PERMISSIONS_CACHE_ENTRIES",
    "NETS_CORE_PERMISSIONS_STARTUP",
    "NETS_CORE_PERMISSIONS_REDIS_KEY",
    "REDIS_URL",
    // Cache, tokens and rate limits (SECRET_KEY and NETS_CORE_SECURE_CACHE_KEY: see `load_from`)
    "NETS_CORE_CACHE_KEY_PREFIX",
    "NETS_CORE_CACHE_MAX_ENTRIES",
    "ACCESS_TOKEN_EXPIRE_SECONDS",
    "REFRESH_TOKEN_EXPIRE_SECONDS",
    "REFRESH_TOKEN_MAX_AGE_SECONDS",
    "NETS_CORE_TOKEN_CACHE_SECONDS",
    "NETS_CORE_TOKEN_CACHE_ENTRIES",
    "NETS_CORE_TOKEN_CACHE_REDIS_KEY",
    "NETS_CORE_TRUSTED_PROXIES",
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
    "NETS_CORE_EMAIL_CONSOLE_ALLOWED",
    "NETS_CORE_VERIFICATION_CODE_EXPIRE_SECONDS",
    "NETS_CORE_VERIFICATION_CODE_LENGTH",
    "NETS_CORE_DEBUG_VERIFICATION_CODE",
    "NETS_CORE_TESTERS_EMAILS",
    "NETS_CORE_TESTERS_VERIFICATION_CODE",
    "NETS_CORE_USER_PROHIBITED_FIELDS",
    "NETS_CORE_LOGIN_CODES_PER_IDENTIFIER",
    "NETS_CORE_LOGIN_CODES_PER_IDENTIFIER_CEILING",
    "NETS_CORE_CODE_CHECKS_PER_ACCOUNT_PER_HOUR",
    "NETS_CORE_CODE_CHECKS_PER_ACCOUNT_PER_DAY",
    "NETS_CORE_LOGIN_REQUESTS_PER_IP",
    "NETS_CORE_CODE_CHECKS_PER_IP",
    "NETS_CORE_LOGIN_RATE_WINDOW_SECONDS",
    "NETS_CORE_DELETE_ACCOUNT_TEMPLATE",
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
    // Push
    "FIREBASE_CONFIG",
    "NETS_CORE_FCM_BASE_URL",
    "NETS_CORE_PUSH_TIMEOUT_SECONDS",
    "NETS_CORE_PUSH_CONCURRENCY",
    "NETS_CORE_PUSH_MAX_RETRIES",
    "NETS_CORE_PUSH_BACKOFF_MS",
    "NETS_CORE_PUSH_BACKOFF_MAX_MS",
    "NETS_CORE_PUSH_ANDROID_PRIORITY",
    "NETS_CORE_PUSH_ANDROID_ICON",
    "NETS_CORE_PUSH_ANDROID_COLOR",
    "NETS_CORE_PUSH_ANDROID_CHANNEL",
    // Social login
    "GOOGLE_CLIENT_ID",
    "NETS_CORE_GOOGLE_HOSTED_DOMAIN",
    "NETS_CORE_GOOGLE_JWKS_URL",
    "APPLE_CLIENT_ID",
    "NETS_CORE_APPLE_JWKS_URL",
    "MICROSOFT_CLIENT_ID",
    "MICROSOFT_TENANT",
    "NETS_CORE_MICROSOFT_JWKS_URL",
    "NETS_CORE_MICROSOFT_ISSUER_URL",
    "NETS_CORE_FACEBOOK_GRAPH_URL",
    "NETS_CORE_GITHUB_API_URL",
    "NETS_CORE_SOCIAL_TIMEOUT_SECONDS",
    "NETS_CORE_SOCIAL_JWKS_MIN_REFRESH_SECONDS",
    "NETS_CORE_SOCIAL_UNVERIFIED_EMAIL",
    "NETS_CORE_WS_PING_SECONDS",
    "NETS_CORE_WS_IDLE_SECONDS",
    "NETS_CORE_WS_MAX_MESSAGE_BYTES",
    "NETS_CORE_WS_SEND_QUEUE",
    "NETS_CORE_WS_WRITE_TIMEOUT_SECONDS",
    "NETS_CORE_WS_TICKET_SECONDS",
    "NETS_CORE_WS_REVOCATION_CHECK_MS",
    "NETS_CORE_WS_CHANNEL_LAYER",
    "NETS_CORE_WS_REDIS_CHANNEL",
    "NETS_CORE_GOOGLE_TOKEN_URL",
    "NETS_CORE_MICROSOFT_TOKEN_URL",
    "NETS_CORE_GITHUB_TOKEN_URL",
    "NETS_CORE_FACEBOOK_JWKS_URL",
    "NETS_CORE_SOCIAL_AVATAR_FIELD",
];

impl Settings {
    /// Defaults ← `NETS_CONFIG` or `./nets.toml` ← environment.
    pub fn load() -> Result<Settings, SettingsError> {
        Self::load_from(&Self::config_path())
    }

    /// The settings file [`Settings::load`] reads: `NETS_CONFIG`, else `./nets.toml`.
    pub fn config_path() -> PathBuf {
        std::env::var_os("NETS_CONFIG").map(PathBuf::from).unwrap_or_else(|| "nets.toml".into())
    }

    /// Defaults ← `file` (if it exists) ← environment.
    pub fn load_from(file: &Path) -> Result<Settings, SettingsError> {
        // `lowercase(false)` after `only`: figment's `only` (a filter) resets key case
        // handling to lower-case, which would match no (upper-case) setting name.
        let figment = Figment::from(Toml::file(file)).merge(Env::raw().only(ENV_KEYS).lowercase(false));
        let mut settings = Self::extract(figment)?;
        // Secret keys are read verbatim: figment would parse `12345` as a number (refused)
        // and `007` as 7 (another key).
        for key in VERBATIM_ENV_KEYS {
            let Ok(value) = std::env::var(key) else { continue };
            match key {
                "SECRET_KEY" => settings.secret_key = Some(value.as_str().into()),
                "NETS_CORE_SECURE_CACHE_KEY" => settings.secure_cache_key = Some(value.as_str().into()),
                "FACEBOOK_APP_ID" => settings.facebook_app_id = value,
                "FACEBOOK_APP_SECRET" => settings.facebook_app_secret = Secret::new(value),
                "GITHUB_CLIENT_ID" => settings.github_client_id = value,
                "GITHUB_CLIENT_SECRET" => settings.github_client_secret = Secret::new(value),
                "GOOGLE_CLIENT_SECRET" => settings.google_client_secret = Secret::new(value),
                "MICROSOFT_CLIENT_SECRET" => settings.microsoft_client_secret = Secret::new(value),
                _ => {}
            }
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
        settings.project_tables()?;
        settings.project_role_table()?;
        crate::client_ip::TrustedProxies::parse(&settings.trusted_proxies)?;
        crate::security_headers::SecurityHeaders::from_settings(&settings)?;
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

    /// Whether `/authenticate/` accepts the fixed `NETS_CORE_DEBUG_VERIFICATION_CODE` for
    /// every account: `DEBUG` on and `NETS_CORE_EMAIL_DEBUG_ENABLED` off. Anyone who can
    /// reach such a server can log in as anyone, so [`serve_with`](crate::serve_with)
    /// (with [`ServeOptions::from_settings`](crate::ServeOptions::from_settings)) warns
    /// and refuses to listen on anything but a loopback address.
    pub fn fixed_debug_code_live(&self) -> bool {
        self.debug && !self.email_debug_enabled
    }

    /// `NETS_CORE_PROJECT_MODEL` and `NETS_CORE_PROJECT_MEMBER_MODEL`, each checked to be
    /// a plain SQL identifier (they are spliced into SQL); `None` when projects are off.
    /// Setting one without the other is an error.
    pub fn project_tables(&self) -> Result<Option<(&str, &str)>, SettingsError> {
        let project = check("NETS_CORE_PROJECT_MODEL", self.project_model.as_deref())?;
        let member = check("NETS_CORE_PROJECT_MEMBER_MODEL", self.project_member_model.as_deref())?;
        match (project, member) {
            (Some(p), Some(m)) => Ok(Some((p, m))),
            (None, None) => Ok(None),
            _ => Err(SettingsError::ProjectTablesPair),
        }
    }

    /// `NETS_CORE_PROJECT_ROLE_MODEL` and its `NETS_CORE_PROJECT_ROLE_NAME_FIELD`, each
    /// checked to be a plain SQL identifier; `None` when memberships reference
    /// `nets_role` (or name their role as text).
    pub fn project_role_table(&self) -> Result<Option<(&str, &str)>, SettingsError> {
        let Some(table) = check("NETS_CORE_PROJECT_ROLE_MODEL", self.project_role_model.as_deref())? else {
            return Ok(None);
        };
        let name = check("NETS_CORE_PROJECT_ROLE_NAME_FIELD", Some(&self.project_role_name_field))?;
        Ok(Some((table, name.unwrap_or("name"))))
    }

    /// The parsed `TIME_ZONE`.
    pub fn time_zone(&self) -> Result<crate::time_zone::TimeZone, SettingsError> {
        crate::time_zone::TimeZone::get(&self.time_zone).ok_or_else(|| SettingsError::TimeZone(self.time_zone.clone()))
    }
}

/// A table or column setting: `None` when unset or empty, else a plain identifier.
fn check<'a>(key: &'static str, value: Option<&'a str>) -> Result<Option<&'a str>, SettingsError> {
    match value {
        None | Some("") => Ok(None),
        Some(v) if is_identifier(v) => Ok(Some(v)),
        Some(v) => Err(SettingsError::TableName { key, value: v.to_owned() }),
    }
}

/// A plain, unquoted SQL identifier: `[A-Za-z_][A-Za-z0-9_]*`, at most 63 bytes
/// (PostgreSQL's limit). Such a name is safe to splice into SQL.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && name.len() <= 63
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_masks_passwords_inside_urls() {
        let s = Settings::from_toml(
            "DATABASE_URL = 'postgres://app:hunter2@db:5432/app?sslmode=require&password=hunter3'\n\
             REDIS_URL = 'redis://default:s3cret@cache:6379/0'\n\
             NETS_CORE_JOBS_URL = 'postgres://jobs:j0bs@db/jobs'\nSECRET_KEY = 'the-key-xxxxxxxxxxxxxxxxxxxxxxxx'",
        )
        .unwrap();
        let shown = format!("{s:?}");
        for secret in ["hunter2", "hunter3", "s3cret", "j0bs", "the-key"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("postgres://app:***@db:5432/app?sslmode=require&password=***"), "{shown}");
        assert!(shown.contains("redis://default:***@cache:6379/0"), "{shown}");
        assert_eq!(mask_url_password("sqlite://nets.db?mode=rwc"), "sqlite://nets.db?mode=rwc");
        assert_eq!(mask_url_password("redis://:pw@h/0"), "redis://:***@h/0");
        assert_eq!(mask_url_password("postgres://user@h/db"), "postgres://user@h/db");
        assert_eq!(mask_url_password("postgres://u:p@ss@h/db"), "postgres://u:***@h/db");
    }

    #[test]
    fn defaults_match_the_original_library() {
        let s = Settings::default();
        assert_eq!(s.openapi_title, "NETS CORE API");
        assert_eq!(s.openapi_version, "1.0.0");
    }

    #[test]
    fn every_setting_can_come_from_the_environment() {
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(Settings::default()) else {
            panic!("settings serialise to an object")
        };
        // Read verbatim by `load_from` rather than through figment.
        let missing: Vec<&String> = fields.keys().filter(|k| !read_from_environment(k)).collect();
        assert!(missing.is_empty(), "add to ENV_KEYS: {missing:?}");
    }

    #[test]
    fn the_token_cache_holds_tokens_ten_seconds_by_default() {
        let s = Settings::default();
        assert_eq!((s.token_cache_seconds, s.token_cache_entries), (10, 10_000));
        assert_eq!(s.token_cache_redis_key, "nets:tokens:generation");
        let s = Settings::from_toml("NETS_CORE_TOKEN_CACHE_SECONDS = 30\nNETS_CORE_TOKEN_CACHE_ENTRIES = 5").unwrap();
        assert_eq!((s.token_cache_seconds, s.token_cache_entries), (30, 5));
    }

    #[test]
    fn bad_values_are_reported_not_defaulted() {
        assert!(matches!(Settings::from_toml("TIME_ZONE = 'Mars/Olympus'"), Err(SettingsError::TimeZone(_))));
        assert!(Settings::from_toml("NETS_CORE_MAX_BODY_SIZE = 'big'").is_err());
        let s = Settings::from_toml("NETS_CORE_OPENAPI_TAGS = ['a', 'b']\nDEBUG = true").unwrap();
        assert_eq!(s.openapi_tags, vec!["a", "b"]);
        assert!(s.debug);
    }

    #[test]
    fn provider_ids_may_be_numbers_and_client_id_lists_one_value() {
        let s =
            Settings::from_toml("FACEBOOK_APP_ID = 1234\nGOOGLE_CLIENT_ID = 'a, b'\nAPPLE_CLIENT_ID = ['x']").unwrap();
        assert_eq!(s.facebook_app_id, "1234");
        assert_eq!(
            (s.google_client_id, s.apple_client_id),
            (vec!["a".to_owned(), "b".to_owned()], vec!["x".to_owned()])
        );
    }

    #[test]
    fn project_tables_must_be_plain_identifiers_and_come_in_pairs() {
        let ok =
            Settings::from_toml("NETS_CORE_PROJECT_MODEL = 'app_project'\nNETS_CORE_PROJECT_MEMBER_MODEL = 'members'");
        assert_eq!(ok.unwrap().project_tables().unwrap(), Some(("app_project", "members")));
        for bad in ["'app.Project'", "'p; DROP TABLE x'", "'\"p\"'", "'1p'", "'p q'"] {
            let toml = format!("NETS_CORE_PROJECT_MODEL = {bad}\nNETS_CORE_PROJECT_MEMBER_MODEL = 'm'");
            let err = Settings::from_toml(&toml).unwrap_err();
            assert!(matches!(err, SettingsError::TableName { key: "NETS_CORE_PROJECT_MODEL", .. }), "{bad}: {err}");
        }
        assert!(matches!(Settings::from_toml("NETS_CORE_PROJECT_MODEL = 'p'"), Err(SettingsError::ProjectTablesPair)));
        assert!(Settings::from_toml("NETS_CORE_PERMISSIONS_SYNC = 'sometimes'").is_err());
        let s = Settings::from_toml("NETS_CORE_PERMISSIONS_SYNC = 'redis'\nNETS_CORE_PERMISSIONS_STARTUP = 'verify'");
        let s = s.unwrap();
        assert_eq!((s.permissions_sync, s.permissions_startup), (PermissionsSync::Redis, PermissionsStartup::Verify));
    }
}
