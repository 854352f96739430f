//! Storage: one handle, [`Db`], over SQLite (the embedded default: a file created on
//! first run) or PostgreSQL (production, feature `postgres`), chosen by `DATABASE_URL`.
//! A binary built with both works with both; one built without `postgres` leaves the
//! PostgreSQL driver out and refuses a `postgres://` URL at start-up, naming the feature.
//!
//! nets never builds SQL from client-supplied names: statements are static text, values
//! are bound parameters, and a field name from a request is accepted only when it is a
//! known column of the model.
//!
//! # Tables and migrations
//!
//! nets ships its own tables, all prefixed `nets_`, created by built-in migrations (one set
//! per backend, embedded in the binary, recorded in `_nets_migrations`):
//!
//! | table | holds |
//! |---|---|
//! | `nets_user` | users; unique e-mail whatever its case; applications add columns |
//! | `nets_oauth_application` | OAuth2 clients (`client_secret_digest`, never the secret) |
//! | `nets_access_token`, `nets_refresh_token` | tokens by digest, with a `family` for reuse detection |
//! | `nets_permission`, `nets_role`, `nets_role_permission`, `nets_user_role` | permissions and roles, global or per project |
//! | `nets_perm_generation` | generation tokens, replaced on every change (cache invalidation across instances): row 1 permissions, row 2 access-token revocations |
//! | `nets_user_device`, `nets_verification_code` | devices and one-time codes (`code_digest`, `attempts`, `consumed_at`) |
//! | `nets_email_template`, `nets_custom_email`, `nets_email_notification` | e-mail templates and the outgoing queue |
//! | `nets_push_notification`, `nets_push_notification_device` | push notifications and the devices they went to |
//! | `nets_social_account` | social login identities: (provider, subject) → user |
//!
//! Every table has `created` and `updated` timestamps, and the ones the runtime updates
//! on a user's behalf an `updated_fields` JSON change history. Secrets (client secrets,
//! tokens, codes) are stored only as digests, so a leaked table grants nothing.
//!
//! Column types per backend: ids are `BIGINT` identities / `INTEGER PRIMARY KEY
//! AUTOINCREMENT`, timestamps `TIMESTAMPTZ` / ISO-8601 UTC text, JSON `JSONB` / text
//! checked with `json_valid`, UUIDs `UUID` / 16-byte blobs (how sqlx encodes
//! [`uuid::Uuid`] for SQLite), so the same Rust types read and write both.
//!
//! An application's own migrations run with [`Db::migrate_app`], after [`Db::migrate`],
//! and are recorded in sqlx's default `_sqlx_migrations`, so the two sets never clash:
//!
//! ```no_run
//! # async fn demo() -> Result<(), nets_runtime::db::DbError> {
//! use nets_runtime::db::Db;
//!
//! let db = Db::connect("sqlite://nets.db?mode=rwc", 8).await?;
//! db.migrate().await?; // nets' tables
//! // The application's, usually embedded with `sqlx::migrate!("./migrations")`.
//! let app_migrations = sqlx::migrate::Migrator::new(std::path::Path::new("./migrations")).await?;
//! db.migrate_app(&app_migrations).await?;
//! # Ok(()) }
//! ```
//!
//! [`Db::from_settings`] does the usual start-up: connect to `DATABASE_URL` with
//! `NETS_CORE_DATABASE_MAX_CONNECTIONS` connections and, when
//! `NETS_CORE_MIGRATE_ON_STARTUP` is on, run the built-in migrations.

mod migrate;

#[cfg(feature = "postgres")]
pub use migrate::postgres_migrator;
#[cfg(feature = "jobs")]
pub(crate) use migrate::run_alone;
pub use migrate::{NETS_MIGRATIONS_TABLE, sqlite_migrator};

use std::str::FromStr;

#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

/// Which database a [`Db`] talks to. (`Postgres` exists in every build, so code that
/// picks SQL by backend reads the same with or without the `postgres` feature.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (embedded).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Runs code on whichever pool a [`Db`] holds: `on_pool!(db, |pool| body)` writes the
/// body once and compiles it for each backend (sqlx has one type per database);
/// `on_pool!(db, |pool| sqlite: a, postgres: b)` gives each backend its own code. Every
/// store of nets uses it, and handlers can too:
///
/// ```no_run
/// use nets_runtime::prelude::*;
///
/// #[request_handler(path = "tasks/count/", method = GET)]
/// async fn count_tasks(ctx: Ctx) -> ApiResult<i64> {
///     let user = ctx.require_user()?.id;
///     let sql = "SELECT COUNT(*) FROM tasks WHERE user_id = $1"; // `$n` works on both
///     let count: i64 = nets_runtime::on_pool!(ctx.db()?, |pool| {
///         sqlx::query_scalar(sql).bind(user).fetch_one(pool).await
///     })
///     .map_err(ApiError::internal)?;
///     Ok(count)
/// }
/// ```
#[cfg(feature = "postgres")]
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$pool:ident| sqlite: $sqlite:expr, postgres: $pg:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $sqlite,
            $crate::db::Db::Postgres($pool) => $pg,
        }
    };
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
/// Without the `postgres` feature there is one pool, and the PostgreSQL code of the
/// two-armed form is left out (never type-checked).
#[cfg(not(feature = "postgres"))]
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$pool:ident| sqlite: $sqlite:expr, postgres: $pg:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $sqlite,
        }
    };
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
        }
    };
}
pub use crate::on_pool;

/// A query parameter PostgreSQL takes (sqlx's `Encode<Postgres> + Type<Postgres>`); with
/// the `postgres` feature off, every type, so bounds that also name SQLite's read alike in
/// both builds.
#[cfg(feature = "postgres")]
pub trait PgParam: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> {}
#[cfg(feature = "postgres")]
impl<T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>> PgParam for T {}
/// A query parameter PostgreSQL takes: any type, in a build without the `postgres` feature.
#[cfg(not(feature = "postgres"))]
pub trait PgParam {}
#[cfg(not(feature = "postgres"))]
impl<T: ?Sized> PgParam for T {}

/// A type read from a PostgreSQL row (sqlx's `FromRow<PgRow>`); with the `postgres`
/// feature off, every type.
#[cfg(feature = "postgres")]
pub trait PgRecord: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> {}
#[cfg(feature = "postgres")]
impl<T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>> PgRecord for T {}
/// A type read from a PostgreSQL row: any type, in a build without the `postgres` feature.
#[cfg(not(feature = "postgres"))]
pub trait PgRecord {}
#[cfg(not(feature = "postgres"))]
impl<T: ?Sized> PgRecord for T {}

/// A push token names one app install, so one device row holds it: this clears token
/// `$1` from every row but device `$2` (`$3`: the time). `/login/` (a device's token) and
/// `POST /push/token/` run it when a device takes a token.
#[cfg(any(feature = "accounts", feature = "push"))]
pub(crate) const RELEASE_PUSH_TOKEN: &str =
    "UPDATE nets_user_device SET firebase_token = NULL, updated = $3 WHERE firebase_token = $1 AND id <> $2";

/// A storage problem.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// `DATABASE_URL` names a database nets does not support.
    #[error("unsupported DATABASE_URL scheme in '{0}': use sqlite:… or postgres://…")]
    UnsupportedUrl(String),
    /// `DATABASE_URL` names PostgreSQL, and this binary was built without it.
    #[error("DATABASE_URL '{0}' is PostgreSQL: build nets-runtime with its `postgres` feature")]
    PostgresNotBuilt(String),
    /// The database could not be reached or opened.
    #[error("could not connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    /// A change was written, but the shared generation that tells other server instances
    /// to drop their cached copies (Redis) could not be replaced: they may use the old
    /// state until their cache time runs out.
    #[error("saved, but other instances could not be told (generation store): {0}")]
    Sync(String),
}

impl From<DbError> for crate::ApiError {
    fn from(e: DbError) -> Self {
        crate::ApiError::internal(e)
    }
}

/// A pool of connections to SQLite or PostgreSQL. Cheap to clone.
///
/// ```no_run
/// # async fn demo() -> Result<(), nets_runtime::db::DbError> {
/// let db = nets_runtime::db::Db::connect("sqlite://nets.db?mode=rwc", 8).await?;
/// db.migrate().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL (feature `postgres`).
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

impl Db {
    /// Connects to `url` (`sqlite:…` or `postgres://…`) with at most `max_connections`.
    ///
    /// SQLite files are created when missing, with foreign keys on and WAL journaling.
    /// Connections are not pinged on checkout: on the hot path that ping costs as much as
    /// the query it guards, and a broken connection still surfaces as an error.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, DbError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(DbError::Connect)?
                .create_if_missing(true)
                .foreign_keys(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .map_err(DbError::Connect)?;
            Ok(Db::Sqlite(pool))
        } else if is_postgres(url) {
            Db::connect_postgres(url, max_connections).await
        } else {
            Err(DbError::UnsupportedUrl(redact(url)))
        }
    }

    #[cfg(feature = "postgres")]
    async fn connect_postgres(url: &str, max_connections: u32) -> Result<Db, DbError> {
        let options = PgConnectOptions::from_str(url).map_err(DbError::Connect)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(DbError::Connect)?;
        Ok(Db::Postgres(pool))
    }

    #[cfg(not(feature = "postgres"))]
    async fn connect_postgres(url: &str, _: u32) -> Result<Db, DbError> {
        Err(DbError::PostgresNotBuilt(redact(url)))
    }

    /// Connects to `settings.database_url` with `settings.database_max_connections`
    /// connections and, when `settings.migrate_on_startup` is on, applies the built-in
    /// migrations.
    pub async fn from_settings(settings: &crate::Settings) -> Result<Db, DbError> {
        let db = Db::connect(&settings.database_url, settings.database_max_connections).await?;
        if settings.migrate_on_startup {
            db.migrate().await?;
        }
        Ok(db)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// Whether `url` names a PostgreSQL database.
pub(crate) fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/x"), "postgres://app:***@db:5432/x");
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        let err = DbError::UnsupportedUrl(redact("mysql://root:pw@h/db"));
        assert!(!err.to_string().contains("pw"));
    }

    /// A SQLite-only build (CI's lean test step) names the feature a PostgreSQL URL
    /// needs, without the URL's password, and never falls back to anything.
    #[cfg(not(feature = "postgres"))]
    #[tokio::test]
    async fn a_postgres_url_in_a_sqlite_only_build_names_the_feature() {
        for url in ["postgres://app:s3cret@db:5432/x", "postgresql://app:s3cret@db/x"] {
            let err = Db::connect(url, 1).await.unwrap_err();
            assert!(matches!(err, DbError::PostgresNotBuilt(_)), "{err}");
            let text = err.to_string();
            assert!(text.contains("`postgres` feature") && !text.contains("s3cret"), "{text}");
        }
    }
}
