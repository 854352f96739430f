//! Where jobs live: SQLite, PostgreSQL or Redis, through apalis' per-database backends.

use std::borrow::Cow;

use apalis::prelude::{TaskBuilder, TaskSink};
use apalis_postgres::PostgresStorage;
use apalis_redis::{ConnectionManager, RedisStorage};
use apalis_sqlite::SqliteStorage;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

use super::{JobConfig, JobsError, SendEmail};
use crate::Settings;
use crate::db::Db;

/// The table recording which of apalis' own migrations ran: apart from nets' and the
/// application's, so none of the three sets sees the others' versions as unknown.
const JOBS_MIGRATIONS_TABLE: &str = "_nets_jobs_migrations";

/// A job storage. Cheap to clone.
#[derive(Clone)]
#[non_exhaustive]
pub enum JobStorage {
    /// SQLite (tables `Jobs` and `Workers`).
    Sqlite(SqlitePool),
    /// PostgreSQL (schema `apalis`).
    Postgres(PgPool),
    /// Redis.
    Redis(ConnectionManager),
}

impl std::fmt::Debug for JobStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JobStorage::Sqlite(_) => "JobStorage::Sqlite",
            JobStorage::Postgres(_) => "JobStorage::Postgres",
            JobStorage::Redis(_) => "JobStorage::Redis",
        })
    }
}

fn storage_error(e: impl std::fmt::Display) -> JobsError {
    JobsError::Storage(e.to_string())
}

impl JobStorage {
    /// `NETS_CORE_JOBS_URL` when set, else `db` itself (its pool is shared).
    pub async fn connect(settings: &Settings, db: &Db) -> Result<JobStorage, JobsError> {
        let storage = if settings.jobs_url.trim().is_empty() {
            match db {
                Db::Sqlite(pool) => JobStorage::Sqlite(pool.clone()),
                Db::Postgres(pool) => JobStorage::Postgres(pool.clone()),
            }
        } else {
            return JobStorage::connect_url(&settings.jobs_url).await;
        };
        storage.setup().await?;
        Ok(storage)
    }

    /// Connects to `url` (`sqlite:…`, `postgres://…`, `redis://…`) and prepares it.
    pub async fn connect_url(url: &str) -> Result<JobStorage, JobsError> {
        let storage =
            if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") {
                match Db::connect(url, 4).await.map_err(storage_error)? {
                    Db::Sqlite(pool) => JobStorage::Sqlite(pool),
                    Db::Postgres(pool) => JobStorage::Postgres(pool),
                }
            } else if url.starts_with("redis://") || url.starts_with("rediss://") {
                JobStorage::Redis(apalis_redis::connect(url).await.map_err(storage_error)?)
            } else {
                return Err(JobsError::UnsupportedUrl(url.split('@').next_back().unwrap_or_default().to_owned()));
            };
        storage.setup().await?;
        Ok(storage)
    }

    /// Creates apalis' tables (SQL storages) when missing. Idempotent.
    async fn setup(&self) -> Result<(), JobsError> {
        match self {
            JobStorage::Sqlite(pool) => {
                // apalis' own `setup` also turns `synchronous` off, which trades durability
                // for speed; only its migrations are run here.
                let mut migrator = SqliteStorage::migrations();
                migrator.dangerous_set_table_name(Cow::Borrowed(JOBS_MIGRATIONS_TABLE));
                migrator.run(pool).await.map_err(storage_error)?;
            }
            JobStorage::Postgres(pool) => {
                // apalis keeps its tables in the `apalis` schema, whatever the connection's
                // search_path: record its migrations there too, once per database.
                if let Err(e) = sqlx::query("CREATE SCHEMA IF NOT EXISTS apalis").execute(pool).await {
                    // Two processes creating it at once: one of them loses the race.
                    let exists: bool =
                        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'apalis')")
                            .fetch_one(pool)
                            .await
                            .map_err(storage_error)?;
                    if !exists {
                        return Err(storage_error(e));
                    }
                }
                let mut migrator = PostgresStorage::migrations();
                migrator.dangerous_set_table_name(Cow::Owned(format!("apalis.{JOBS_MIGRATIONS_TABLE}")));
                migrator.run(pool).await.map_err(storage_error)?;
            }
            JobStorage::Redis(_) => {}
        }
        Ok(())
    }

    pub(super) async fn push_email(&self, config: &JobConfig, job: SendEmail) -> Result<(), JobsError> {
        let task = TaskBuilder::new(job).max_attempts(config.max_attempts as usize).build();
        let queue = config.email_queue();
        match self {
            JobStorage::Sqlite(pool) => {
                let mut s = SqliteStorage::<SendEmail>::new(pool).with_config(sqlite_config(config, &queue));
                s.push_task(task).await.map_err(storage_error)
            }
            JobStorage::Postgres(pool) => {
                let mut s = PostgresStorage::<SendEmail>::new(pool).with_config(postgres_config(config, &queue));
                s.push_task(task).await.map_err(storage_error)
            }
            JobStorage::Redis(conn) => {
                let mut s = RedisStorage::<SendEmail>::new(conn.clone()).with_config(redis_config(config, &queue));
                s.push_task(task).await.map_err(storage_error)
            }
        }
    }
}

pub(super) fn sqlite_config(c: &JobConfig, queue: &str) -> apalis_sqlite::Config {
    apalis_sqlite::Config::default().queue(queue).heartbeat_interval(c.heartbeat).missed_heartbeats(2)
}

pub(super) fn postgres_config(c: &JobConfig, queue: &str) -> apalis_postgres::Config {
    apalis_postgres::Config::default().queue(queue).heartbeat_interval(c.heartbeat).missed_heartbeats(2)
}

pub(super) fn redis_config(c: &JobConfig, queue: &str) -> apalis_redis::Config {
    apalis_redis::Config::default().queue(queue).heartbeat_interval(c.heartbeat).missed_heartbeats(2)
}
