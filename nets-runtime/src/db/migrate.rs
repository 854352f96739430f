//! Migrations: nets' built-in set (one per backend, embedded in the binary) and the
//! application's own.
//!
//! The two sets are tracked in different tables: nets' in `_nets_migrations`, the
//! application's in sqlx's default `_sqlx_migrations`. Version numbers of one set never
//! collide with the other's, and `sqlx migrate run` on the application's directory keeps
//! working. Run nets' set first: application migrations may alter nets' tables (add
//! columns to `nets_user`, for example).

use std::borrow::Cow;

use sqlx::migrate::Migrator;

use super::{Db, DbError};

/// The table that records which built-in migrations ran.
pub const NETS_MIGRATIONS_TABLE: &str = "_nets_migrations";

/// The built-in migrations for SQLite (`nets-runtime/migrations/sqlite/`).
pub fn sqlite_migrator() -> Migrator {
    builtin(sqlx::migrate!("./migrations/sqlite"))
}

/// The built-in migrations for PostgreSQL (`nets-runtime/migrations/postgres/`).
#[cfg(feature = "postgres")]
pub fn postgres_migrator() -> Migrator {
    builtin(sqlx::migrate!("./migrations/postgres"))
}

fn builtin(mut migrator: Migrator) -> Migrator {
    migrator.dangerous_set_table_name(Cow::Borrowed(NETS_MIGRATIONS_TABLE));
    migrator
}

impl Db {
    /// Applies nets' built-in migrations that have not run yet (recorded in
    /// `_nets_migrations`). Idempotent: a second call finds nothing to do.
    ///
    /// Fails when a migration that already ran was changed since, as sqlx does.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(pool) => run_alone(&sqlite_migrator(), pool).await?,
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => postgres_migrator().run(pool).await?,
        }
        Ok(())
    }

    /// Applies the application's migrations (`sqlx::migrate!("./migrations")`, recorded in
    /// sqlx's default `_sqlx_migrations` unless the migrator says otherwise). Idempotent.
    ///
    /// Call it after [`Db::migrate`], so the application's migrations can build on nets'
    /// tables:
    ///
    /// ```no_run
    /// # async fn demo(db: nets_runtime::db::Db) -> Result<(), nets_runtime::db::DbError> {
    /// // In an application: `sqlx::migrate!("./migrations")`, embedded in the binary.
    /// let app_migrations = sqlx::migrate::Migrator::new(std::path::Path::new("./migrations")).await?;
    /// db.migrate().await?;
    /// db.migrate_app(&app_migrations).await?;
    /// # Ok(()) }
    /// ```
    pub async fn migrate_app(&self, migrator: &Migrator) -> Result<(), DbError> {
        match self {
            Db::Sqlite(pool) => run_alone(migrator, pool).await?,
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => migrator.run(pool).await?,
        }
        Ok(())
    }
}

/// Runs `migrator` on a SQLite connection of its own, closed afterwards: creating tables
/// fills a connection's page cache (about 1 MiB for nets' set), which a pooled one would
/// keep for the life of the server (`PRAGMA shrink_memory` hands it to the allocator,
/// not back to the system: measured). A pooled connection is held meanwhile, so an
/// in-memory database outlives the migrating one.
pub(crate) async fn run_alone(migrator: &Migrator, pool: &sqlx::SqlitePool) -> Result<(), DbError> {
    use sqlx::Connection;

    let _held = pool.acquire().await?;
    let mut connection = sqlx::SqliteConnection::connect_with(&pool.connect_options()).await?;
    migrator.run(&mut connection).await?;
    connection.close().await?;
    Ok(())
}

/// A migration that has not run yet ([`Db::pending_migrations`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingMigration {
    /// `nets` (the built-in set) or `app`.
    pub set: &'static str,
    /// The migration's version (its file name's number).
    pub version: i64,
    /// Its description (the rest of the file name).
    pub description: String,
}

impl Db {
    /// The migrations of nets' set, then of `app`'s, that have not run on this database,
    /// in the order they would run. Reads only: nothing is applied.
    pub async fn pending_migrations(&self, app: Option<&Migrator>) -> Result<Vec<PendingMigration>, DbError> {
        let builtin = match self {
            Db::Sqlite(_) => sqlite_migrator(),
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => postgres_migrator(),
        };
        let mut pending = self.pending_in("nets", &builtin).await?;
        if let Some(app) = app {
            pending.extend(self.pending_in("app", app).await?);
        }
        Ok(pending)
    }

    async fn pending_in(&self, set: &'static str, migrator: &Migrator) -> Result<Vec<PendingMigration>, DbError> {
        let applied = self.applied_versions(&migrator.table_name).await?;
        Ok(migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .map(|m| PendingMigration { set, version: m.version, description: m.description.to_string() })
            .collect())
    }

    /// The versions recorded as applied in `table` (none when it does not exist yet).
    async fn applied_versions(&self, table: &str) -> Result<Vec<i64>, DbError> {
        // The table name is the migrator's (nets' constant or sqlx's default), never a
        // client's string; it is still checked to be a plain identifier before use.
        if !table.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(DbError::Query(sqlx::Error::Protocol(format!("unexpected migrations table name '{table}'"))));
        }
        let exists = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
        #[cfg(feature = "postgres")]
        let exists_pg =
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1";
        let found: i64 = crate::db::on_pool!(self, |pool| sqlite: sqlx::query_scalar(exists).bind(table).fetch_one(pool).await?,
            postgres: sqlx::query_scalar(exists_pg).bind(table).fetch_one(pool).await?);
        if found == 0 {
            return Ok(Vec::new());
        }
        let select = format!("SELECT version FROM {table} WHERE success");
        let versions: Vec<i64> =
            crate::db::on_pool!(self, |pool| sqlx::query_scalar(sqlx::AssertSqlSafe(select.clone()))
                .fetch_all(pool)
                .await?);
        Ok(versions)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "postgres")]
    use std::collections::BTreeMap;

    use super::*;

    /// Table → column names, and the index names, read from a migration set's SQL.
    #[cfg(feature = "postgres")]
    fn schema_of(migrator: &Migrator) -> (BTreeMap<String, Vec<String>>, Vec<String>) {
        let table = regex::Regex::new(r"(?s)CREATE TABLE (\w+) \((.*?)\n\);").unwrap();
        let column = regex::Regex::new(r"(?m)^    (\w+) ").unwrap();
        let index = regex::Regex::new(r"CREATE (?:UNIQUE )?INDEX (\w+)").unwrap();
        let (mut tables, mut indexes) = (BTreeMap::new(), Vec::new());
        for migration in migrator.iter() {
            let sql: &str = migration.sql.as_ref();
            for t in table.captures_iter(sql) {
                let columns = column
                    .captures_iter(&t[2])
                    .map(|c| c[1].to_owned())
                    .filter(|c| c != "CHECK" && c != "UNIQUE")
                    .collect();
                tables.insert(t[1].to_owned(), columns);
            }
            indexes.extend(index.captures_iter(sql).map(|i| i[1].to_owned()));
        }
        (tables, indexes)
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn the_two_backends_have_the_same_migrations_tables_columns_and_indexes() {
        let (sqlite, postgres) = (sqlite_migrator(), postgres_migrator());
        let versions = |m: &Migrator| m.iter().map(|m| (m.version, m.description.to_string())).collect::<Vec<_>>();
        assert_eq!(versions(&sqlite), versions(&postgres));
        let (sqlite_tables, sqlite_indexes) = schema_of(&sqlite);
        assert_eq!(sqlite_tables.len(), 17, "{:?}", sqlite_tables.keys());
        assert_eq!(sqlite_tables["nets_user"].len(), 13, "{:?}", sqlite_tables["nets_user"]);
        assert_eq!(schema_of(&postgres), (sqlite_tables, sqlite_indexes));
        assert_eq!(sqlite.table_name, NETS_MIGRATIONS_TABLE);
        assert_eq!(postgres.table_name, NETS_MIGRATIONS_TABLE);
    }

    #[tokio::test]
    async fn migrating_an_empty_sqlite_database_twice() {
        let db = Db::connect("sqlite::memory:", 1).await.unwrap();
        db.migrate().await.unwrap();
        db.migrate().await.unwrap();
        let applied: i64 = crate::db::on_pool!(&db, |pool| sqlx::query_scalar("SELECT count(*) FROM _nets_migrations")
            .fetch_one(pool)
            .await)
        .unwrap();
        assert_eq!(applied, sqlite_migrator().iter().count() as i64);
    }
}
