//! Where jobs live: SQLite, PostgreSQL (feature `postgres`) or Redis, through apalis'
//! per-database backends.

use std::borrow::Cow;

use apalis::prelude::{FetchById, Status, TaskBuilder, TaskId, TaskSink};
#[cfg(feature = "postgres")]
use apalis_postgres::PostgresStorage;
#[cfg(feature = "redis")]
use apalis_redis::{ConnectionManager, RedisStorage};
use apalis_sqlite::SqliteStorage;
use std::str::FromStr;

#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::SqlitePool;

use ulid::Ulid;

use super::{Job, JobConfig, JobId, JobState, JobStatus, JobsError};
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
    /// PostgreSQL (schema `apalis`). Its connections search `apalis, public`: apalis
    /// names its tables with their schema but its `hstore` type without one, and the
    /// `hstore` extension must never land in (and be dropped with) an application schema.
    /// (Feature `postgres`.)
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
    /// Redis (feature `redis`).
    #[cfg(feature = "redis")]
    Redis(ConnectionManager),
}

impl std::fmt::Debug for JobStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JobStorage::Sqlite(_) => "JobStorage::Sqlite",
            #[cfg(feature = "postgres")]
            JobStorage::Postgres(_) => "JobStorage::Postgres",
            #[cfg(feature = "redis")]
            JobStorage::Redis(_) => "JobStorage::Redis",
        })
    }
}

fn storage_error(e: impl std::fmt::Display) -> JobsError {
    JobsError::Storage(e.to_string())
}

impl JobStorage {
    /// `NETS_CORE_JOBS_URL` when set, else the application database `db` (SQLite: its
    /// pool is shared; PostgreSQL: a small pool of its own to the same database, see
    /// [`JobStorage::Postgres`]).
    pub async fn connect(settings: &Settings, db: &Db) -> Result<JobStorage, JobsError> {
        if !settings.jobs_url.trim().is_empty() {
            return JobStorage::connect_url(&settings.jobs_url).await;
        }
        let storage = match db {
            Db::Sqlite(pool) => JobStorage::Sqlite(pool.clone()),
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => JobStorage::Postgres(jobs_pool((*pool.connect_options()).clone()).await?),
        };
        storage.setup().await?;
        Ok(storage)
    }

    /// Connects to `url` (`sqlite:…`, `postgres://…`, `redis://…`) and prepares it.
    pub async fn connect_url(url: &str) -> Result<JobStorage, JobsError> {
        let storage = if url.starts_with("sqlite:") {
            match Db::connect(url, 4).await.map_err(storage_error)? {
                Db::Sqlite(pool) => JobStorage::Sqlite(pool),
                #[cfg(feature = "postgres")]
                Db::Postgres(pool) => JobStorage::Postgres(pool),
            }
        } else if crate::db::is_postgres(url) {
            #[cfg(feature = "postgres")]
            {
                let options = PgConnectOptions::from_str(url).map_err(storage_error)?;
                JobStorage::Postgres(jobs_pool(options).await?)
            }
            #[cfg(not(feature = "postgres"))]
            return Err(JobsError::Storage(
                "NETS_CORE_JOBS_URL is PostgreSQL: build nets-runtime with its `postgres` feature".into(),
            ));
        } else if url.starts_with("redis://") || url.starts_with("rediss://") {
            #[cfg(feature = "redis")]
            {
                JobStorage::Redis(apalis_redis::connect(url).await.map_err(storage_error)?)
            }
            #[cfg(not(feature = "redis"))]
            return Err(JobsError::Storage(
                "NETS_CORE_JOBS_URL is Redis: build nets-runtime with its `redis` feature".into(),
            ));
        } else {
            return Err(JobsError::UnsupportedUrl(url.split('@').next_back().unwrap_or_default().to_owned()));
        };
        storage.setup().await?;
        Ok(storage)
    }

    fn is_redis(&self) -> bool {
        #[cfg(feature = "redis")]
        return matches!(self, JobStorage::Redis(_));
        #[cfg(not(feature = "redis"))]
        false
    }

    /// Creates apalis' tables (SQL storages) when missing. Idempotent.
    async fn setup(&self) -> Result<(), JobsError> {
        match self {
            JobStorage::Sqlite(pool) => {
                // apalis' own `setup` also turns `synchronous` off, which trades durability
                // for speed; only its migrations are run here.
                let mut migrator = SqliteStorage::migrations();
                migrator.dangerous_set_table_name(Cow::Borrowed(JOBS_MIGRATIONS_TABLE));
                crate::db::run_alone(&migrator, pool).await.map_err(storage_error)?;
            }
            #[cfg(feature = "postgres")]
            JobStorage::Postgres(pool) => {
                // apalis keeps its tables in the `apalis` schema, whatever the connection's
                // search_path; its `hstore` extension goes there too unless the database
                // has it already. Its migrations are recorded there, once per database.
                ensure(
                    pool,
                    "CREATE SCHEMA IF NOT EXISTS apalis",
                    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'apalis')",
                )
                .await?;
                ensure(
                    pool,
                    "CREATE EXTENSION IF NOT EXISTS hstore SCHEMA apalis",
                    "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'hstore')",
                )
                .await?;
                let mut migrator = PostgresStorage::migrations();
                migrator.dangerous_set_table_name(Cow::Owned(format!("apalis.{JOBS_MIGRATIONS_TABLE}")));
                migrator.run(pool).await.map_err(storage_error)?;
            }
            #[cfg(feature = "redis")]
            JobStorage::Redis(_) => {}
        }
        Ok(())
    }

    /// Queues `job` on its type's queue, with the attempts the settings allow.
    pub(super) async fn push<J: Job>(&self, config: &JobConfig, job: J) -> Result<JobId, JobsError> {
        let id = Ulid::generate();
        let task =
            TaskBuilder::new(job).task_id(TaskId::from_ulid(id)).max_attempts(config.max_attempts as usize).build();
        let queue = config.queue(J::NAME);
        match self {
            JobStorage::Sqlite(pool) => {
                let mut s = SqliteStorage::<J>::new(pool).with_config(sqlite_config(config, &queue));
                s.push_task(task).await.map_err(storage_error)?;
            }
            #[cfg(feature = "postgres")]
            JobStorage::Postgres(pool) => {
                let mut s = PostgresStorage::<J>::new(pool).with_config(postgres_config(config, &queue));
                s.push_task(task).await.map_err(storage_error)?;
            }
            #[cfg(feature = "redis")]
            JobStorage::Redis(conn) => {
                let mut s = RedisStorage::<J>::new(conn.clone()).with_config(redis_config(config, &queue));
                s.push_task(task).await.map_err(storage_error)?;
            }
        }
        Ok(JobId::new(J::NAME, id.to_string()))
    }

    /// The state and attempts of the job `id`; `None` when the storage has no such job
    /// on that job type's queue.
    pub(super) async fn status(&self, config: &JobConfig, id: &JobId) -> Result<Option<JobStatus>, JobsError> {
        let task_id = TaskId::from_str(id.id()).map_err(storage_error)?;
        let queue = config.queue(id.job());
        // The payload is not decoded: `()` stands for any job type.
        let task = match self {
            JobStorage::Sqlite(pool) => {
                let mut s = SqliteStorage::<()>::new(pool).with_config(sqlite_config(config, &queue));
                s.fetch_by_id(&task_id).await.map_err(storage_error)?
            }
            #[cfg(feature = "postgres")]
            JobStorage::Postgres(pool) => {
                let mut s = PostgresStorage::<()>::new(pool).with_config(postgres_config(config, &queue));
                s.fetch_by_id(&task_id).await.map_err(storage_error)?
            }
            #[cfg(feature = "redis")]
            JobStorage::Redis(conn) => {
                let mut s = RedisStorage::<()>::new(conn.clone()).with_config(redis_config(config, &queue));
                s.fetch_by_id(&task_id).await.map_err(storage_error)?
            }
        };
        // SQL storages find an id on any queue: only this type's counts.
        let Some(task) = task.filter(|t| t.queue().is_none_or(|q| q.as_ref() == queue)) else { return Ok(None) };
        let attempts = u32::try_from(task.attempt()).unwrap_or(u32::MAX);
        let max_attempts = task.max_attempts().map_or(config.max_attempts, |m| u32::try_from(m).unwrap_or(u32::MAX));
        let state = match task.status() {
            Status::Pending => JobState::Waiting,
            Status::Done => JobState::Done,
            Status::Killed => JobState::Dead,
            // A last attempt's failure recorded as such (before nets recorded those as
            // killed): SQL storages never fetch it again, Redis schedules it again.
            Status::Failed if attempts >= max_attempts && !self.is_redis() => JobState::Dead,
            Status::Failed => JobState::Failed,
            // Queued (taken, not started), Running, and any state a later apalis adds.
            _ => JobState::Running,
        };
        Ok(Some(JobStatus { state, attempts }))
    }
}

#[cfg(feature = "postgres")]
/// Runs `create`; when it fails, succeeds anyway if `exists` says another process
/// created the object meanwhile (two `IF NOT EXISTS` at once: one loses the race).
async fn ensure(pool: &PgPool, create: &'static str, exists: &'static str) -> Result<(), JobsError> {
    let Err(e) = sqlx::query(create).execute(pool).await else { return Ok(()) };
    let found: bool = sqlx::query_scalar(exists).fetch_one(pool).await.map_err(storage_error)?;
    if found { Ok(()) } else { Err(storage_error(e)) }
}

#[cfg(feature = "postgres")]
/// Connections for apalis: the application's options with apalis' search path.
async fn jobs_pool(options: PgConnectOptions) -> Result<PgPool, JobsError> {
    PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options.options([("search_path", "apalis, public")]))
        .await
        .map_err(storage_error)
}

pub(super) fn sqlite_config(c: &JobConfig, queue: &str) -> apalis_sqlite::Config {
    apalis_sqlite::Config::default().queue(queue).heartbeat_interval(c.heartbeat).missed_heartbeats(2)
}

#[cfg(feature = "postgres")]
pub(super) fn postgres_config(c: &JobConfig, queue: &str) -> apalis_postgres::Config {
    apalis_postgres::Config::default().queue(queue).heartbeat_interval(c.heartbeat).missed_heartbeats(2)
}

#[cfg(feature = "redis")]
pub(super) fn redis_config(c: &JobConfig, queue: &str) -> apalis_redis::Config {
    apalis_redis::Config::default().queue(queue).heartbeat_interval(c.heartbeat).missed_heartbeats(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Job storage URLs of backends this build lacks (CI's lean test step) name the
    /// feature; an unknown scheme is refused as before.
    #[tokio::test]
    async fn storage_urls_of_missing_backends_name_the_feature() {
        let refused = |url: &'static str| async move { JobStorage::connect_url(url).await.unwrap_err().to_string() };
        #[cfg(not(feature = "postgres"))]
        assert!(refused("postgres://app@db/x").await.contains("`postgres` feature"));
        #[cfg(not(feature = "redis"))]
        assert!(refused("redis://127.0.0.1:6379").await.contains("`redis` feature"));
        assert!(refused("mysql://app@db/x").await.contains("unsupported job storage URL"));
    }
}
