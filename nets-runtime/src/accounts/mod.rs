//! The account endpoints of the original library, kept on the wire and made secure:
//! `POST /login/` (a one-time code), `POST /authenticate/` (code → OAuth tokens),
//! `POST /logout/`, `GET|POST /getProfile/` and `POST /update/`.
//!
//! ```no_run
//! use nets_runtime::prelude::*;
//! use nets_runtime::accounts::Accounts;
//! use nets_runtime::cache::Cache;
//! use nets_runtime::db::Db;
//! use nets_runtime::oauth::OAuth;
//! use nets_runtime::users::UserTable;
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let settings = Settings::load()?;
//! let db = Db::from_settings(&settings).await?;
//! let oauth = OAuth::from_settings(&settings, &db).await?;
//! let users = UserTable::load(&db, &settings).await?;
//! let cache = Cache::from_settings(&settings).await?;
//! let accounts = Accounts::new(oauth.clone(), users, cache, &settings)?;
//! let app = App::builder(settings)
//!     .database(db)
//!     .install(oauth) // bearer tokens, /o/token/ and friends
//!     .install(accounts) // /login/, /authenticate/, ...: routes, state and docs
//!     .routes(build_urlpatterns!()?)
//!     .build()?;
//! let router = app.router();
//! # let _ = router; Ok(()) }
//! ```
//!
//! The endpoints are `#[request_handler]`s (see the `endpoints` module): they go through
//! the app's pipeline like its own endpoints, use its authenticator (so any token the
//! app accepts works on `/getProfile/`), appear in [`route_registry`](crate::route_registry)
//! and `/openapi.json`, and answer a wrong method with the JSON 405.
//!
//! # What changed from the original, and why
//!
//! * Codes are `NETS_CORE_VERIFICATION_CODE_LENGTH` digits from the OS CSPRNG (the
//!   original derived them from the clock), kept only as an HMAC digest bound to the user,
//!   live `NETS_CORE_VERIFICATION_CODE_EXPIRE_SECONDS`, are consumed atomically (one
//!   success however many concurrent tries), die after [`MAX_ATTEMPTS`] wrong tries, and a
//!   new code retires the previous one.
//! * `/login/` never writes a request field other than the identifier to the user (the
//!   original let `is_superuser` through), and `/update/` refuses prohibited fields.
//! * Unknown users and wrong codes get the same answer (no account enumeration); logins
//!   and code checks are rate limited per identifier and per client address.
//! * `/logout/` revokes the whole login (access and refresh tokens).
//! * There is no built-in tester account: testers come only from `NETS_CORE_TESTERS_EMAILS`,
//!   outside `DEBUG` as exact addresses with a code of at least 8 digits, and the fixed
//!   code only ever logs in an account that exists (it never creates one).
//! * A login answers before it writes anything (device, code, e-mail), and reads the
//!   same rows whether or not the account exists, so neither the answer nor its timing
//!   tells who has an account (see the `login` module's notes). A failed code check
//!   takes the same steps whatever failed (the `codes` module's notes).
//! * A login never creates an account: the code of an identifier without one is kept
//!   under the identifier, and the first successful `/authenticate/` creates the account
//!   (and the login's device). Nobody can fill the table with addresses they cannot read,
//!   nor reserve someone else's address under a username.
//! * Rate limits are settings: `NETS_CORE_LOGIN_CODES_PER_IDENTIFIER` (5, per identifier
//!   and client address, so nobody elsewhere can lock the owner out) under
//!   `NETS_CORE_LOGIN_CODES_PER_IDENTIFIER_CEILING` (20),
//!   `NETS_CORE_LOGIN_REQUESTS_PER_IP` (30) and `NETS_CORE_CODE_CHECKS_PER_IP` (30) per
//!   `NETS_CORE_LOGIN_RATE_WINDOW_SECONDS` (600), plus code checks per account and device
//!   (`NETS_CORE_CODE_CHECKS_PER_ACCOUNT_PER_HOUR` 10, `_PER_DAY` 30); 0 switches one off.
//!   IPv6 clients count by /64; without a client address all such clients share one key.
//! * `/update/` stores file uploads instead of crashing (the original answered a 500):
//!   see below.
//!
//! # `POST /update/` and files
//!
//! `/update/` takes a JSON object, a form or `multipart/form-data`. Values go to the
//! `NETS_CORE_USER_UPDATABLE_FIELDS` (string-encoded values such as `"42"` or `"true"`
//! are coerced to the column's type). A file part goes to a `NETS_CORE_USER_FILE_FIELDS`
//! column, a text column (for example `avatar VARCHAR(255)`, added by the application's
//! migrations) that then holds the stored path, such as `user/2026/11/23/cat.png`,
//! relative to `MEDIA_ROOT`:
//!
//! * its content type, sniffed from the bytes (not the name nor the declared type), must
//!   match `NETS_CORE_USER_FILE_TYPES` (default `image/png`, `image/jpeg`, `image/gif`,
//!   `image/webp`), its size must be at most `NETS_CORE_USER_FILE_MAX_BYTES` (default
//!   5 MiB), and its stored path must fit the column (`VARCHAR(n)`); otherwise a 400
//!   names the field;
//! * a file under any other name, a file field sent as a value (a client must never
//!   choose the path), a field sent twice and a prohibited field are 400s naming it;
//! * nothing is written, to disk or to the database, unless every field is valid; the
//!   files are saved through [`LocalStorage`](crate::uploads::LocalStorage) (a sanitised
//!   name, never over another file) and their paths written in the same `UPDATE` as the
//!   other fields, so `updated_fields` records `{"old", "new", "time"}` for them too; if
//!   that `UPDATE` fails, the saved files are removed;
//! * the previous file is never deleted: its path stays in the `updated_fields` history,
//!   and removing old files is the application's decision;
//! * the body may hold one file per file field plus 64 KiB; more is a 413. It is read
//!   only once the bearer token is checked. The other endpoints take 64 KiB.
//!
//! `/getProfile/` shows the stored path when the field is also in
//! `NETS_CORE_USER_JSON_FIELDS`; serving the file (from `MEDIA_ROOT`) is the
//! application's to do.
//!
//! # Username logins
//!
//! With `NETS_CORE_USER_IDENTIFIER = "username"` the original created accounts with no
//! address, so no code could reach them. Here the code goes to the account's stored
//! e-mail; a login for a username not yet taken must also carry `email`, where the code
//! goes and which becomes the new account's address when the code is used at
//! `/authenticate/` (nothing is reserved before). An `email` sent for an existing username
//! is ignored (it cannot redirect that account's codes), and a new username with an
//! address another account has gets no code; every case answers `CODE SENT` alike. Usernames are kept
//! as typed and compared case-insensitively.

mod codes;
mod deletion;
pub(crate) mod devices;
mod endpoints;
mod external;
mod input;
mod login;
mod notify;
mod page_policy;
mod update;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

pub use codes::MAX_ATTEMPTS;

use crate::cache::{Cache, RateLimit};
use crate::keys::{MissingSecretKey, SecretKey};
use crate::oauth::{OAuth, Tokens};
use crate::users::UserTable;
use crate::{ApiError, AppBuilder, Ctx, Module, Settings};

/// Request bodies of these endpoints are a handful of short fields.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The request limits of these endpoints, from settings.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// `/login/` per identifier and client address.
    login_per_identifier: Limit,
    /// `/login/` per identifier from everywhere: bounds the codes one address is sent.
    login_identifier_ceiling: Limit,
    /// Code checks per identifier (or user) and device, per hour and per day.
    code_checks_per_account_hour: Limit,
    code_checks_per_account_day: Limit,
    /// `/login/` per client address.
    login_per_ip: Limit,
    /// Code checks (`/authenticate/`, `/delete/`) per client address.
    code_checks_per_ip: Limit,
}

/// A rate limit, or none (a setting of 0).
#[derive(Debug, Clone, Copy)]
struct Limit(Option<RateLimit>);

impl Limit {
    fn new(name: &'static str, count: u64, window: Duration) -> Limit {
        Limit((count > 0).then(|| RateLimit::new(name, count, window)))
    }

    async fn hit(&self, cache: &Cache, key: &str) -> Result<(), ApiError> {
        match &self.0 {
            Some(limit) => limit.hit(cache, key).await,
            None => Ok(()),
        }
    }
}

impl Limits {
    fn from_settings(settings: &Settings) -> Limits {
        let window = Duration::from_secs(settings.login_rate_window_seconds.max(1));
        Limits {
            login_per_identifier: Limit::new("login-id-ip", settings.login_codes_per_identifier, window),
            login_identifier_ceiling: Limit::new("login-id", settings.login_codes_per_identifier_ceiling, window),
            code_checks_per_account_hour: Limit::new(
                "checks-hour",
                settings.code_checks_per_account_per_hour,
                Duration::from_secs(3600),
            ),
            code_checks_per_account_day: Limit::new(
                "checks-day",
                settings.code_checks_per_account_per_day,
                Duration::from_secs(24 * 3600),
            ),
            login_per_ip: Limit::new("login-ip", settings.login_requests_per_ip, window),
            code_checks_per_ip: Limit::new("auth-ip", settings.code_checks_per_ip, window),
        }
    }
}

/// The account endpoints and the [`authenticate`](Accounts::authenticate) helper. Cheap
/// to clone.
#[derive(Clone, Debug)]
pub struct Accounts(Arc<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    oauth: OAuth,
    users: UserTable,
    cache: Cache,
    code_key: SecretKey,
    limits: Limits,
    code_ttl: chrono::Duration,
    code_length: usize,
    /// The fixed code when `DEBUG` is on and e-mail debug is off.
    debug_code: Option<String>,
    testers: Vec<String>,
    tester_code: Option<String>,
    prohibited: Vec<String>,
    mailer: Option<crate::mail::Mailer>,
    delete_template: Option<String>,
    /// Where `/update/` stores file fields' uploads (`MEDIA_ROOT`).
    storage: crate::uploads::LocalStorage,
    /// Largest `/update/` body: the other endpoints' limit plus room for one file per
    /// file field.
    update_limit: usize,
}

/// Installs the account endpoints (`/login/`, `/authenticate/`, `/logout/`,
/// `/getProfile/`, `/update/`, `/requestDelete/`, `/delete/`), their state, and the OAuth
/// bearer authenticator when the app has none. `build()` checks that the user table was
/// loaded with the app's `NETS_CORE_USER_IDENTIFIER`.
impl Module for Accounts {
    fn install(self, app: AppBuilder) -> AppBuilder {
        let app = match app.has_authenticator() {
            true => app,
            false => app.authenticator(self.0.oauth.bearer()),
        };
        let identifier = self.0.users.identifier();
        app.routes(crate::module::builtin_routes("nets_runtime::accounts")).state(self).check(
            "the accounts module",
            move |app| match app.settings().user_identifier == identifier {
                true => Ok(()),
                false => Err(format!(
                    "its user table loaded with NETS_CORE_USER_IDENTIFIER = {:?}, the app's settings say {:?}",
                    identifier.column(),
                    app.settings().user_identifier.column()
                )),
            },
        )
    }
}

impl Accounts {
    /// The client's rate-limit key: its address (IPv6: its /64). Without one (a server
    /// run without connect info) every such client shares one key, so the per-address
    /// limits hold for all of them together instead of switching off; warned once.
    fn client_key(&self, ctx: &Ctx) -> String {
        match ctx.client_ip() {
            Some(ip) => crate::client_ip::rate_limit_key(ip),
            None => {
                static WARNED: std::sync::Once = std::sync::Once::new();
                WARNED.call_once(|| {
                    tracing::warn!(
                        "accounts: no client address (serve with connect info, as nets_runtime::serve does): \
                         every client shares one per-address login and code-check budget"
                    );
                });
                "no-client-address".to_owned()
            }
        }
    }

    /// Counts a code check of `account` (an identifier, or `user:<id>`) from `device`
    /// against the per-account caps and the client's per-address limit.
    async fn count_code_check(&self, ctx: &Ctx, account: &str, device: Option<uuid::Uuid>) -> Result<(), ApiError> {
        let limits = &self.0.limits;
        let cache = &self.0.cache;
        limits.code_checks_per_ip.hit(cache, &self.client_key(ctx)).await?;
        // Per device: guesses without the owner's device never block the owner's own.
        let key = format!("{account}|{}", device.map(|d| d.to_string()).unwrap_or_default());
        limits.code_checks_per_account_hour.hit(cache, &key).await?;
        limits.code_checks_per_account_day.hit(cache, &key).await
    }
}

/// Fields `/update/` never writes whatever the settings say (§7 of the original's list).
pub const PROHIBITED_FIELDS: &[&str] = &[
    "password",
    "is_superuser",
    "is_staff",
    "is_active",
    "verified",
    "email_verified",
    "last_login",
    "date_joined",
    "updated_fields",
    "groups",
    "user_permissions",
    "doc_*",
    "id",
];

/// [`Accounts::new`] could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// No `SECRET_KEY` outside `DEBUG`.
    #[error(transparent)]
    MissingSecretKey(#[from] MissingSecretKey),
    /// The testers' settings would let a guess or a look-alike address in.
    #[error("{0}")]
    Testers(String),
}

/// Shortest tester code outside `DEBUG`: a fixed code is guessable in proportion to
/// how short it is, and it never expires.
pub const MIN_TESTER_CODE_DIGITS: usize = 8;

/// The testers and their code, checked: outside `DEBUG`, exact addresses only (a pattern
/// such as `review*` would hand the fixed code to `reviewer.jane@…`) and a code of at
/// least [`MIN_TESTER_CODE_DIGITS`] digits.
fn testers(settings: &Settings) -> Result<(Vec<String>, Option<String>), SetupError> {
    let code = settings.testers_verification_code.clone().filter(|c| !c.is_empty());
    let testers: Vec<String> = settings.testers_emails.iter().map(|t| t.trim().to_lowercase()).collect();
    if settings.debug || code.is_none() || testers.is_empty() {
        return Ok((testers, code));
    }
    if let Some(pattern) = testers.iter().find(|t| t.contains('*')) {
        return Err(SetupError::Testers(format!(
            "NETS_CORE_TESTERS_EMAILS: '{pattern}' is a pattern; outside DEBUG list exact addresses only"
        )));
    }
    let digits = code.as_deref().unwrap_or_default();
    if digits.len() < MIN_TESTER_CODE_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SetupError::Testers(format!(
            "NETS_CORE_TESTERS_VERIFICATION_CODE must be at least {MIN_TESTER_CODE_DIGITS} digits outside DEBUG"
        )));
    }
    tracing::warn!(
        testers = ?testers,
        "NETS_CORE_TESTERS_EMAILS is set outside DEBUG: these existing accounts log in with a fixed code"
    );
    Ok((testers, code))
}

impl Accounts {
    /// The account endpoints over `oauth`'s database, with codes and rate-limit counters
    /// in `cache`. Needs `SECRET_KEY` outside `DEBUG`; outside `DEBUG` testers must be
    /// exact addresses with a code of at least [`MIN_TESTER_CODE_DIGITS`] digits (and
    /// a warning is logged: they log in with a fixed code).
    pub fn new(oauth: OAuth, users: UserTable, cache: Cache, settings: &Settings) -> Result<Accounts, SetupError> {
        let key = SecretKey::from_settings(settings)?;
        let (testers, tester_code) = testers(settings)?;
        let mut prohibited: Vec<String> = PROHIBITED_FIELDS.iter().map(|s| (*s).to_owned()).collect();
        prohibited.extend(settings.user_prohibited_fields.iter().cloned());
        let update_limit = users.max_upload_bytes().saturating_add(MAX_BODY_BYTES);
        Ok(Accounts(Arc::new(Inner {
            oauth,
            users,
            cache,
            code_key: key.derive("verification-code"),
            limits: Limits::from_settings(settings),
            code_ttl: chrono::Duration::seconds(
                i64::try_from(settings.verification_code_expire_seconds).unwrap_or(600),
            ),
            code_length: usize::from(settings.verification_code_length.clamp(4, 12)),
            debug_code: (settings.debug && !settings.email_debug_enabled)
                .then(|| settings.debug_verification_code.clone()),
            testers,
            tester_code,
            prohibited,
            mailer: None,
            delete_template: settings.delete_account_template.clone(),
            storage: crate::uploads::LocalStorage::new(&settings.media_root),
            update_limit,
        })))
    }

    /// Sends the code and new-login e-mails with `mailer` (queued). Without a mailer no
    /// e-mail is sent, so only the debug and tester codes can log in.
    pub fn with_mailer(self, mailer: crate::mail::Mailer) -> Accounts {
        let mut inner = Arc::try_unwrap(self.0).unwrap_or_else(|shared| Inner::clone(&shared));
        inner.mailer = Some(mailer);
        Accounts(Arc::new(inner))
    }

    /// The OAuth handle these endpoints issue tokens with.
    pub fn oauth(&self) -> &OAuth {
        &self.0.oauth
    }

    /// Exchanges a one-time `code` of the user with this identifier for tokens of the
    /// client `client_id`, as `/authenticate/` does (for custom login flows). Unknown
    /// user, wrong, used, expired or dead code, and a code bound to another device all
    /// give the same error.
    pub async fn authenticate(
        &self,
        identifier: &str,
        code: &str,
        client_id: &str,
        client_secret: &str,
        device_uuid: Option<uuid::Uuid>,
    ) -> Result<(i64, Tokens), ApiError> {
        let app = self.0.oauth.authenticate_client(client_id, Some(client_secret)).await.map_err(|e| match e {
            crate::oauth::ClientAuthError::Failed => ApiError::bad_request("Invalid client_id or client_secret"),
            crate::oauth::ClientAuthError::Db(e) => ApiError::internal(e),
        })?;
        let identifier = self.normalize_identifier(identifier)?;
        let user = codes::consume(self, &identifier, code, device_uuid, true).await?;
        let tokens = self.0.oauth.generate_tokens(user, app.id, None).await.map_err(ApiError::internal)?;
        Ok((user, tokens))
    }

    /// The identifier as stored and compared: a valid e-mail address, lower-cased; or a
    /// username of letters, digits and `@.+-_` (Django's rule), at most 150 characters,
    /// kept as typed and compared case-insensitively.
    fn normalize_identifier(&self, raw: &str) -> Result<String, ApiError> {
        let field = self.0.users.identifier().column();
        let value = raw.trim();
        if value.is_empty() {
            return Err(ApiError::field(field, "this field is required"));
        }
        match self.0.users.identifier() {
            crate::users::Identifier::Email => crate::params::Email::parse(value)
                .filter(|e| e.as_str().len() <= 254)
                .map(crate::params::Email::into_string)
                .ok_or_else(|| ApiError::field(field, "invalid e-mail")),
            crate::users::Identifier::Username => {
                let allowed = |c: char| c.is_alphanumeric() || "@.+-_".contains(c);
                if value.chars().count() > 150 || !value.chars().all(allowed) {
                    return Err(ApiError::field(field, "letters, digits and @.+-_ only, at most 150"));
                }
                Ok(value.to_owned())
            }
        }
    }

    /// Whether `address` (lower-cased) is a configured tester. A trailing `*` is a prefix
    /// match, in `DEBUG` only: outside it [`Accounts::new`] refuses patterns.
    fn is_tester(&self, address: &str) -> bool {
        self.0.testers.iter().any(|t| match t.strip_suffix('*') {
            Some(prefix) => address.starts_with(prefix),
            None => address == t,
        })
    }

    /// Whether `/update/` refuses `field`.
    fn is_prohibited(&self, field: &str) -> bool {
        self.0.prohibited.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => field.starts_with(prefix),
            None => field == p,
        })
    }

    /// The user as JSON (the JSON-visible fields, or `fields` of them).
    async fn user_json(&self, user: i64, fields: Option<&[&str]>) -> Result<Map<String, Value>, ApiError> {
        self.0.users.to_json(self.0.oauth.db(), user, fields).await?.ok_or(ApiError::NotFound)
    }
}
