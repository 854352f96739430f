//! Durable background jobs on [apalis](https://docs.rs/apalis) 1.0.
//!
//! The original ran Celery tasks and never sent its queued e-mails. nets keeps jobs in a
//! storage that survives restarts:
//!
//! | `NETS_CORE_JOBS_URL` | storage |
//! |---|---|
//! | empty (default) | the application database (`DATABASE_URL`): SQLite, embedded, nothing to run |
//! | `sqlite:…` | another SQLite file |
//! | `postgres://…` | PostgreSQL (tables in the `apalis` schema) |
//! | `redis://…` | Redis (keys under the queue names) |
//!
//! Workers run in the server process by default (`NETS_CORE_JOBS_IN_SERVER`) and as
//! separate processes (`quickstart worker`), any number, on any number of machines that
//! share the storage. An idle worker looks for new jobs every `NETS_CORE_JOBS_POLL_MS`
//! (one indexed query). Each worker beats every `NETS_CORE_JOBS_HEARTBEAT_SECONDS`; the
//! jobs of a worker silent for two beats (killed, crashed, cut off) go back to the queue
//! and another worker runs them. A failing job is retried in the worker with exponential
//! backoff (`NETS_CORE_JOBS_BACKOFF_MS` doubling up to `NETS_CORE_JOBS_BACKOFF_MAX_MS`)
//! until `NETS_CORE_JOBS_MAX_ATTEMPTS`; then it is dead: kept in the storage, and for
//! e-mails listed by [`Mailer::queue`](crate::mail::Mailer::queue) and sent again by
//! [`Mailer::retry`](crate::mail::Mailer::retry).
//!
//! Delivery is at least once, so jobs are idempotent: the e-mail job claims its
//! `nets_email_notification` row and does nothing when the row is already `sent`.
//!
//! Built-in jobs: [`SendEmail`]. The original's other Celery tasks are not carried over:
//! `check_permissions` only returned a value nobody awaited (permission checks are
//! synchronous in nets), `get_google_avatar` belongs to social login, and push fan-out
//! to the push notifications module.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use nets_runtime::{Settings, db::Db, jobs::Jobs, mail::Mailer};
//!
//! let settings = Settings::load()?;
//! let db = Db::from_settings(&settings).await?;
//! let jobs = Jobs::connect(&settings, &db).await?;
//! let mailer = Mailer::builder(&settings).database(db).jobs(jobs.clone()).build()?;
//! // In a worker process: run until Ctrl-C.
//! jobs.run_worker(mailer, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

mod storage;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use storage::JobStorage;
pub use worker::WorkerHandle;

use crate::Settings;
use crate::db::Db;

/// A job-queue problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobsError {
    /// `NETS_CORE_JOBS_URL` (or `DATABASE_URL`) names no supported storage.
    #[error("unsupported job storage URL '{0}': use sqlite:…, postgres://… or redis://…")]
    UnsupportedUrl(String),
    /// The storage could not be reached or prepared.
    #[error("job storage: {0}")]
    Storage(String),
    /// A worker stopped with an error.
    #[error("worker: {0}")]
    Worker(String),
}

/// The built-in job that sends one queued e-mail (a `nets_email_notification` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendEmail {
    /// The row to send.
    pub notification_id: i64,
}

/// Retry, heartbeat and concurrency settings of queues and workers.
#[derive(Debug, Clone)]
pub(crate) struct JobConfig {
    pub(crate) queue_prefix: String,
    pub(crate) max_attempts: u32,
    pub(crate) backoff: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) concurrency: usize,
    pub(crate) heartbeat: Duration,
    pub(crate) poll: Duration,
}

impl JobConfig {
    fn from_settings(s: &Settings) -> JobConfig {
        JobConfig {
            queue_prefix: s.jobs_queue_prefix.clone(),
            max_attempts: s.jobs_max_attempts.max(1),
            backoff: Duration::from_millis(s.jobs_backoff_ms.max(1)),
            backoff_max: Duration::from_millis(s.jobs_backoff_max_ms.max(s.jobs_backoff_ms).max(1)),
            concurrency: s.jobs_concurrency.max(1),
            heartbeat: Duration::from_secs(s.jobs_heartbeat_seconds.max(1)),
            poll: Duration::from_millis(s.jobs_poll_ms.max(1)),
        }
    }

    /// The queue of e-mail jobs, `<prefix>:email`.
    pub(crate) fn email_queue(&self) -> String {
        format!("{}:email", self.queue_prefix)
    }
}

/// The job queue: enqueue jobs, run workers. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Jobs(Arc<JobsInner>);

#[derive(Debug)]
struct JobsInner {
    storage: JobStorage,
    config: JobConfig,
}

impl Jobs {
    /// Connects to the storage the settings name (`NETS_CORE_JOBS_URL`, else the
    /// application database `db`) and creates its tables when missing.
    pub async fn connect(settings: &Settings, db: &Db) -> Result<Jobs, JobsError> {
        let storage = JobStorage::connect(settings, db).await?;
        Ok(Jobs::new(storage, settings))
    }

    /// A queue over a storage you connected ([`JobStorage::connect_url`]).
    pub fn new(storage: JobStorage, settings: &Settings) -> Jobs {
        Jobs(Arc::new(JobsInner { storage, config: JobConfig::from_settings(settings) }))
    }

    /// The storage.
    pub fn storage(&self) -> &JobStorage {
        &self.0.storage
    }

    /// Queues a [`SendEmail`] job.
    pub async fn enqueue_email(&self, notification_id: i64) -> Result<(), JobsError> {
        self.0.storage.push_email(&self.0.config, SendEmail { notification_id }).await
    }
}
