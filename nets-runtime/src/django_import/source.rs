//! Reading a django-nets-core 0.2.30 database, read-only.
//!
//! The connection cannot write: SQLite files are opened read-only (and their journal
//! mode is left alone), PostgreSQL sessions are `default_transaction_read_only`. Every
//! statement is one static text that works on both backends: values are cast to
//! `TEXT`/`BIGINT` in SQL, so the same Rust types read both, whatever Django chose
//! (`integer` or `bigint` ids, `bool` or `0/1`, `uuid` or `char(32)`).

use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use super::ImportError;

/// The Django database.
pub(crate) enum Source {
    Sqlite(SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

/// Runs one statement on whichever pool the source holds.
macro_rules! on_source {
    ($source:expr, |$pool:ident| $body:expr) => {
        match $source {
            Source::Sqlite($pool) => $body,
            #[cfg(feature = "postgres")]
            Source::Postgres($pool) => $body,
        }
    };
}

impl Source {
    pub(crate) async fn connect(url: &str) -> Result<Source, ImportError> {
        let connect = |e: sqlx::Error| ImportError::Source(e.to_string());
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).map_err(connect)?.read_only(true);
            // A missing file is an error (read-only never creates one).
            let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.map_err(connect)?;
            Ok(Source::Sqlite(pool))
        } else if crate::db::is_postgres(url) {
            #[cfg(feature = "postgres")]
            {
                let options = PgConnectOptions::from_str(url)
                    .map_err(connect)?
                    .options([("default_transaction_read_only", "on"), ("TimeZone", "UTC")]);
                let pool = PgPoolOptions::new().max_connections(1).connect_with(options).await.map_err(connect)?;
                Ok(Source::Postgres(pool))
            }
            #[cfg(not(feature = "postgres"))]
            Err(ImportError::Source(
                "--from is a PostgreSQL URL: build nets-runtime with its `postgres` feature".into(),
            ))
        } else {
            Err(ImportError::Source("--from takes a sqlite:… or postgres://… URL".into()))
        }
    }

    /// The column names of `table` (empty when it does not exist).
    pub(crate) async fn columns(&self, table: &str) -> Result<Vec<String>, ImportError> {
        const SQLITE: &str = "SELECT name FROM pragma_table_info($1)";
        #[cfg(feature = "postgres")]
        const POSTGRES: &str = "SELECT column_name::text FROM information_schema.columns \
                                WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position";
        let columns = match self {
            Source::Sqlite(pool) => sqlx::query_scalar(SQLITE).bind(table).fetch_all(pool).await,
            #[cfg(feature = "postgres")]
            Source::Postgres(pool) => sqlx::query_scalar(POSTGRES).bind(table).fetch_all(pool).await,
        };
        columns.map_err(|e| ImportError::Source(format!("reading the columns of {table}: {e}")))
    }

    /// Every row of a statement (one of this module's constants, or built from checked
    /// identifiers) as `T`.
    pub(crate) async fn rows<T>(&self, sql: &str) -> Result<Vec<T>, ImportError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + crate::db::PgRecord + Send + Unpin,
    {
        on_source!(self, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(pool).await)
            .map_err(|e| ImportError::Source(format!("{e} (in: {})", sql.chars().take(90).collect::<String>())))
    }

    pub(crate) async fn close(self) {
        on_source!(self, |pool| pool.close().await);
    }
}

/// A Django timestamp as text: `2026-12-04 10:00:00.123456` (SQLite, UTC) or
/// `2026-12-04 10:00:00.123456+00` (PostgreSQL in a UTC session).
pub(crate) fn timestamp(text: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text?.trim();
    if let Ok(aware) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(aware.with_timezone(&Utc));
    }
    if let Ok(aware) = DateTime::parse_from_rfc3339(text) {
        return Some(aware.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// `CAST(CAST(x AS INTEGER) AS BIGINT)`: a Django boolean (`bool` or `0/1`) as an `i64`.
macro_rules! flag {
    ($column:literal) => {
        concat!("CAST(CAST(", $column, " AS INTEGER) AS BIGINT)")
    };
}
pub(crate) use flag;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_timestamps_of_both_backends_are_read_as_utc() {
        let expected = "2026-12-04T10:00:00.123456Z";
        for text in ["2026-12-04 10:00:00.123456", "2026-12-04 10:00:00.123456+00", "2026-12-04 11:00:00.123456+01:00"]
        {
            let parsed = timestamp(Some(text)).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
            assert_eq!(parsed.as_deref(), Some(expected), "{text}");
        }
        assert_eq!(timestamp(Some("2026-12-04 10:00:00")).map(|t| t.timestamp()), Some(1_796_378_400));
        assert_eq!(timestamp(Some("yesterday")), None);
        assert_eq!(timestamp(None), None);
    }
}
