//! Databases for tests: each test gets its own, so tests run in parallel.
//!
//! * By default, SQLite: a fresh temporary file per test, deleted when the test ends.
//! * When `NETS_TEST_DATABASE_URL` is set (CI sets
//!   `postgres://postgres@127.0.0.1:5432/test`), PostgreSQL: a fresh schema
//!   `nets_t_<random>` per test, made the connections' `search_path`, dropped when the test
//!   ends. If that database cannot be reached the test fails: it is never skipped.
//!
//! ```no_run
//! # async fn demo() {
//! let db = nets_tests::db::test_db().await; // migrated
//! let app = nets_tests::db::app_builder_with(&db).build().expect("app"); // App::builder(..).database(..)
//! # let _ = app;
//! # }
//! ```

use std::ops::Deref;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use nets_runtime::db::{Backend, Db};
use nets_runtime::{App, AppBuilder, Settings};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};

/// The environment variable that switches the tests to PostgreSQL.
pub const TEST_DATABASE_URL: &str = "NETS_TEST_DATABASE_URL";

/// Connections per test database: enough for concurrent requests in one test, small
/// enough for many tests in parallel on one PostgreSQL.
const MAX_CONNECTIONS: u32 = 4;

/// A database of its own for one test; derefs to its [`Db`].
pub struct TestDb {
    /// The handle (give it to `App::builder(..).database(..)`).
    pub db: Db,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(PathBuf),
    PgSchema { admin: Box<PgConnectOptions>, schema: String },
}

impl Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

impl TestDb {
    /// Which backend the tests run on.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }
    /// The PostgreSQL schema of this test, `None` on SQLite.
    pub fn schema(&self) -> Option<&str> {
        match &self.cleanup {
            Cleanup::PgSchema { schema, .. } => Some(schema),
            Cleanup::SqliteFile(_) => None,
        }
    }
}

/// A database with nets' built-in migrations applied, isolated from every other test.
pub async fn test_db() -> TestDb {
    let db = empty_test_db().await;
    if let Err(e) = db.migrate().await {
        panic!("built-in migrations failed on {:?}: {e}", db.backend());
    }
    db
}

/// An isolated database with nothing in it (not even the built-in migrations).
pub async fn empty_test_db() -> TestDb {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match std::env::var(TEST_DATABASE_URL) {
        Ok(url) if !url.trim().is_empty() => postgres(&url, &id).await,
        _ => sqlite(&id).await,
    }
}

/// Runs one setup statement (test-written SQL), panicking with the statement's error.
pub async fn exec(db: &Db, sql: &str) {
    let statement = sqlx::AssertSqlSafe(sql.to_owned());
    let done = match db {
        Db::Sqlite(pool) => sqlx::query(statement).execute(pool).await.map(drop),
        Db::Postgres(pool) => sqlx::query(statement).execute(pool).await.map(drop),
    };
    if let Err(e) = done {
        panic!("test setup failed on `{sql}`: {e}");
    }
}

/// Inserts a user with `email` (nothing else set); its id.
pub async fn create_user(db: &Db, email: &str) -> i64 {
    let sql = "INSERT INTO nets_user (email) VALUES ($1) RETURNING id";
    let id = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).bind(email).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).bind(email).fetch_one(pool).await,
    };
    id.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// An app builder with default settings and `db` as its database.
pub fn app_builder_with(db: &TestDb) -> AppBuilder {
    App::builder(Settings::default()).database(db.db.clone())
}

async fn sqlite(id: &str) -> TestDb {
    let path = std::env::temp_dir().join(format!("nets-test-{id}.db"));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = Db::connect(&url, MAX_CONNECTIONS)
        .await
        .unwrap_or_else(|e| panic!("cannot open the test database {}: {e}", path.display()));
    TestDb { db, cleanup: Cleanup::SqliteFile(path) }
}

async fn postgres(url: &str, id: &str) -> TestDb {
    let admin =
        PgConnectOptions::from_str(url).unwrap_or_else(|e| panic!("{TEST_DATABASE_URL} is not a PostgreSQL URL: {e}"));
    let schema = format!("nets_t_{id}");
    let unreachable = |e: sqlx::Error| -> ! {
        panic!(
            "{TEST_DATABASE_URL} is set but PostgreSQL cannot be used: {e}. \
             Start it or unset {TEST_DATABASE_URL} to test on SQLite."
        )
    };
    // One plain connection first: its error says why the server cannot be used.
    let mut admin_conn = PgConnection::connect_with(&admin).await.unwrap_or_else(|e| unreachable(e));
    // The name is `nets_t_` + hex digits, generated here: safe to splice.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut admin_conn)
        .await
        .unwrap_or_else(|e| unreachable(e));
    let _ = admin_conn.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false)
        .connect_with(admin.clone().options([("search_path", schema.as_str())]))
        .await
        .unwrap_or_else(|e| unreachable(e));
    TestDb { db: Db::Postgres(pool), cleanup: Cleanup::PgSchema { admin: Box::new(admin), schema } }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::PgSchema { admin, schema } => {
                // Drop runs inside the test's runtime, which cannot be blocked on: drop the
                // schema from a thread with a runtime of its own.
                let (admin, schema) = (admin.as_ref().clone(), schema.clone());
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    runtime.block_on(async move {
                        let pool = PgPoolOptions::new().max_connections(1).connect_with(admin).await?;
                        let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
                        pool.close().await;
                        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                    })
                })
                .join();
                if let Ok(Err(e)) = dropped {
                    eprintln!("warning: could not drop the test schema: {e}");
                }
            }
        }
    }
}
