//! Durable background jobs on [apalis](https://docs.rs/apalis) 1.0, for nets' modules and
//! for applications alike.
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
//! A job type is a type implementing [`Job`]: a serde payload, a stable
//! [`NAME`](Job::NAME) and an async [`run`](Job::run). [`Jobs::enqueue`] stores a job on
//! its type's queue (`<NETS_CORE_JOBS_QUEUE_PREFIX>:<NAME>`); a [`Worker`] runs every job
//! type registered on it ([`Worker::register`]), each with what its runs need. The
//! e-mail module's job, [`SendEmail`], is one such type, queued
//! and registered through this same API.
//!
//! Workers run in the server process by default (`NETS_CORE_JOBS_IN_SERVER`) and as
//! separate processes (`quickstart worker`), any number, on any number of machines that
//! share the storage. An idle worker looks for new jobs of each of its types every
//! `NETS_CORE_JOBS_POLL_MS` (one indexed query per type), and runs up to
//! `NETS_CORE_JOBS_CONCURRENCY` jobs of each type at once. Each worker beats every
//! `NETS_CORE_JOBS_HEARTBEAT_SECONDS`; the jobs of a worker silent for two beats
//! (killed, crashed, cut off) go back to the queue and another worker runs them. A
//! failing job ([`JobError::Retry`]) is retried in the worker with exponential backoff
//! (`NETS_CORE_JOBS_BACKOFF_MS` doubling up to `NETS_CORE_JOBS_BACKOFF_MAX_MS`) until
//! `NETS_CORE_JOBS_MAX_ATTEMPTS`; then, or at once on a [`JobError::Permanent`], it is
//! dead: kept in the storage ([`JobState::Dead`] from [`Jobs::status`]), never run
//! again. E-mails record every attempt on their own rows as well, where
//! [`Mailer::queue`](crate::mail::Mailer::queue) lists the dead ones and
//! [`Mailer::retry`](crate::mail::Mailer::retry) sends them again.
//!
//! A job whose type no running worker registered waits in its queue
//! ([`JobState::Waiting`]) until a worker that registered it starts: it is never run by
//! a worker that cannot, never failed for it, never lost. So a rolling deploy that adds
//! a job type is safe (old workers leave the new jobs to new workers), and a job type
//! forgotten in a worker shows as jobs that stay waiting.
//!
//! Delivery is at least once, so jobs are idempotent: the e-mail job claims its
//! `nets_email_notification` row and does nothing when the row is already `sent`.
//!
//! The original's other Celery tasks are not carried over: `check_permissions` only
//! returned a value nobody awaited (permission checks are synchronous in nets),
//! `get_google_avatar` belongs to social login, and push fan-out to the push
//! notifications module: those modules register their own job types here.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use nets_runtime::jobs::{Job, JobError, Jobs};
//! use nets_runtime::{Settings, db::Db};
//!
//! /// The application's own job: tell the team about a new sign-up.
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct AnnounceSignup {
//!     user_id: i64,
//! }
//!
//! impl Job for AnnounceSignup {
//!     const NAME: &'static str = "app.announce_signup";
//!     type Context = Db;
//!
//!     async fn run(&self, db: &Db) -> Result<(), JobError> {
//!         // Post to the team's chat, with `db` at hand; errors are retried:
//!         let _ = (db, self.user_id);
//!         Ok(())
//!     }
//! }
//!
//! let settings = Settings::load()?;
//! let db = Db::from_settings(&settings).await?;
//! let jobs = Jobs::connect(&settings, &db).await?;
//! // In a request handler (with `jobs` as app state, say):
//! let id = jobs.enqueue(AnnounceSignup { user_id: 7 }).await?;
//! // In a worker process: every registered type, until Ctrl-C.
//! jobs.worker()
//!     .register::<AnnounceSignup>(db.clone())
//!     .run(async { let _ = tokio::signal::ctrl_c().await; })
//!     .await?;
//! println!("{id}: {:?}", jobs.status(&id).await?);
//! # Ok(()) }
//! ```
//!
//! With the `mail` feature, the e-mail job joins the same worker:
//! `.register::<SendEmail>(mailer)` ([`SendEmail`]).

mod job;
mod storage;
mod tick;
mod worker;

use std::sync::Arc;
use std::time::Duration;

pub use job::{Job, JobError, JobId, JobState, JobStatus};
pub use storage::JobStorage;

/// Which rows of a module's durable queue (e-mails, push deliveries) to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueFilter {
    /// Waiting or being sent (`queued`, `sending`).
    Queued,
    /// Failed, with attempts left: a worker will try again.
    Failed,
    /// Given up (out of attempts, or refused for good): only the module's `retry`
    /// ([`Mailer::retry`](crate::mail::Mailer::retry), `Push::retry`) sends them again.
    Dead,
    /// Sent.
    Sent,
}
pub use worker::{Worker, WorkerHandle};

/// The e-mail job, now [`crate::mail::SendEmail`]; still reachable here.
#[cfg(feature = "mail")]
pub use crate::mail::SendEmail;

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
    /// Not a job id (`<name>/<id>`).
    #[error("not a job id: '{0}' (expected <job type name>/<id>)")]
    InvalidJobId(String),
    /// A worker was started without any job type registered.
    #[error("a worker needs at least one job type: register one with Worker::register")]
    NoJobTypes,
    /// Two job types registered on one worker share a name (or one was registered twice).
    #[error("job type name '{name}' registered twice on one worker ({first} and {second})")]
    DuplicateJobType {
        /// The shared [`Job::NAME`].
        name: &'static str,
        /// The Rust type registered first.
        first: &'static str,
        /// The Rust type registered second.
        second: &'static str,
    },
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

    /// The queue of the job type `name`, `<prefix>:<name>` (e-mails: `<prefix>:email`).
    pub(crate) fn queue(&self, name: &str) -> String {
        format!("{}:{name}", self.queue_prefix)
    }
}

/// The job queue: enqueue jobs, read their status, start workers. Cheap to clone.
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

    /// Stores `job` on its type's queue, for a worker that registered the type; allowed
    /// `NETS_CORE_JOBS_MAX_ATTEMPTS` attempts.
    ///
    /// ```no_run
    /// # use nets_runtime::jobs::{Job, JobError, Jobs, JobState};
    /// #[derive(Clone, serde::Serialize, serde::Deserialize)]
    /// struct Reindex { document_id: i64 }
    ///
    /// impl Job for Reindex {
    ///     const NAME: &'static str = "search.reindex";
    ///     type Context = ();
    ///     async fn run(&self, _: &()) -> Result<(), JobError> { Ok(()) }
    /// }
    ///
    /// # async fn demo(jobs: Jobs) -> Result<(), nets_runtime::jobs::JobsError> {
    /// let id = jobs.enqueue(Reindex { document_id: 42 }).await?;
    /// let status = jobs.status(&id).await?.expect("the job is stored");
    /// assert_eq!(status.state, JobState::Waiting); // until a worker takes it
    /// # Ok(()) }
    /// ```
    pub async fn enqueue<J: Job>(&self, job: J) -> Result<JobId, JobsError> {
        let () = job::ValidName::<J>::CHECKED;
        self.0.storage.push(&self.0.config, job).await
    }

    /// Where the job `id` is: waiting, running, failed with attempts left, done or dead.
    /// `None` when the storage holds no such job.
    pub async fn status(&self, id: &JobId) -> Result<Option<JobStatus>, JobsError> {
        self.0.storage.status(&self.0.config, id).await
    }

    /// A worker for this queue's storage: [`register`](Worker::register) the job types it
    /// runs, then [`run`](Worker::run) or [`spawn`](Worker::spawn) it.
    pub fn worker(&self) -> Worker {
        Worker::new(self.clone())
    }
}
