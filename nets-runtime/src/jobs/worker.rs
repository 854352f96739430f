//! Workers: pull the jobs of every registered type from the storage and run them, with
//! retries and backoff.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use apalis::layers::retry::HasherRng;
use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::prelude::{
    AbortError, Attempt, BackendExt, BoxDynError, Data, RetryPolicy, TaskId, WorkerBuilder, WorkerBuilderExt,
};
#[cfg(feature = "postgres")]
use apalis_postgres::PostgresStorage;
#[cfg(feature = "redis")]
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use super::job::ValidName;
#[cfg(feature = "postgres")]
use super::storage::postgres_config;
#[cfg(feature = "redis")]
use super::storage::redis_config;
use super::storage::{JobStorage, sqlite_config};
use super::tick::Tick;
use super::{Job, Jobs, JobsError};

/// A worker being put together: the job types it runs, each with its
/// [`Context`](Job::Context). From [`Jobs::worker`]; ends with [`run`](Worker::run) or
/// [`spawn`](Worker::spawn).
///
/// Each registered type gets its own poller, heartbeat and `NETS_CORE_JOBS_CONCURRENCY`
/// slots, on its own Tokio task; a job type a worker did not register is left in its
/// queue for a worker that did.
///
/// ```no_run
/// use nets_runtime::jobs::{Job, JobError, Jobs};
/// use nets_runtime::mail::{Mailer, SendEmail};
///
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Thumbnail { upload_id: i64 }
///
/// impl Job for Thumbnail {
///     const NAME: &'static str = "app.thumbnail";
///     type Context = std::path::PathBuf; // the media root
///     async fn run(&self, media_root: &std::path::PathBuf) -> Result<(), JobError> {
///         let _ = (media_root, self.upload_id);
///         Ok(())
///     }
/// }
///
/// # async fn demo(jobs: Jobs, mailer: Mailer) -> Result<(), nets_runtime::jobs::JobsError> {
/// // Beside the API, in the server process:
/// let worker = jobs
///     .worker()
///     .register::<SendEmail>(mailer)
///     .register::<Thumbnail>("media".into())
///     .spawn()?;
/// // .. serve ..
/// worker.stop().await?; // jobs in flight finish first
/// # Ok(()) }
/// ```
#[must_use = "a worker runs only once .run(..) or .spawn() is called"]
pub struct Worker {
    jobs: Jobs,
    types: Vec<Registration>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("job_types", &self.job_types()).finish_non_exhaustive()
    }
}

/// Starts the worker of one job type: (queue, worker name, stop signal) → its run.
type Start = Box<dyn FnOnce(Jobs, String, Stop) -> BoxedRun + Send>;
type BoxedRun = Pin<Box<dyn Future<Output = Result<(), JobsError>> + Send>>;

/// One registered job type.
struct Registration {
    name: &'static str,
    rust_type: &'static str,
    start: Start,
}

/// Resolves when the worker is asked to stop (by its caller, or because another of its
/// job types' workers failed).
#[derive(Clone)]
struct Stop(watch::Receiver<bool>);

impl Stop {
    async fn wait(mut self) {
        // An error means the sender is gone: stop as well.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

impl Worker {
    pub(super) fn new(jobs: Jobs) -> Worker {
        Worker { jobs, types: Vec::new() }
    }

    /// Runs jobs of type `J` with `context` (what [`Job::run`] gets).
    pub fn register<J: Job>(mut self, context: J::Context) -> Worker {
        let () = ValidName::<J>::CHECKED;
        let start: Start = Box::new(move |jobs, name, stop| Box::pin(run_type::<J>(jobs, context, name, stop)));
        self.types.push(Registration { name: J::NAME, rust_type: std::any::type_name::<J>(), start });
        self
    }

    /// The names of the registered job types, in registration order.
    pub fn job_types(&self) -> Vec<&'static str> {
        self.types.iter().map(|t| t.name).collect()
    }

    /// At least one type, no name twice.
    fn check(&self) -> Result<(), JobsError> {
        if self.types.is_empty() {
            return Err(JobsError::NoJobTypes);
        }
        for (i, later) in self.types.iter().enumerate() {
            if let Some(first) = self.types[..i].iter().find(|t| t.name == later.name) {
                return Err(JobsError::DuplicateJobType {
                    name: later.name,
                    first: first.rust_type,
                    second: later.rust_type,
                });
            }
        }
        Ok(())
    }

    /// Runs every registered job type until `shutdown` completes (jobs in flight finish
    /// first). Fails at once without job types or with a name registered twice, and
    /// when one type's worker fails (the others are stopped first).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), JobsError> {
        self.check()?;
        let (stop, stopped) = watch::channel(false);
        let id = uuid::Uuid::new_v4().simple().to_string();
        let mut running = JoinSet::new();
        for t in self.types {
            let name = worker_name(&self.jobs.0.config.queue_prefix, t.name, &id[..12]);
            running.spawn((t.start)(self.jobs.clone(), name, Stop(stopped.clone())));
        }
        let mut shutdown = std::pin::pin!(shutdown);
        let mut failure = None;
        loop {
            tokio::select! {
                () = &mut shutdown, if !*stop.borrow() => {
                    stop.send_replace(true);
                }
                finished = running.join_next() => {
                    let Some(finished) = finished else { break };
                    let result = finished.map_err(|e| JobsError::Worker(e.to_string())).and_then(|r| r);
                    if let Err(e) = result {
                        tracing::error!(error = %e, "job worker failed; stopping the worker's other job types");
                        failure.get_or_insert(e);
                        stop.send_replace(true);
                    }
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// Runs the worker on a Tokio task (how the server runs one beside the API).
    pub fn spawn(self) -> Result<WorkerHandle, JobsError> {
        self.check()?;
        Ok(self.spawn_unchecked())
    }

    /// [`spawn`](Worker::spawn) without the early check: `run` still refuses a bad
    /// worker, and `stop` reports it.
    pub(crate) fn spawn_unchecked(self) -> WorkerHandle {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(self.run(async move {
            let _ = stopped.await;
        }));
        WorkerHandle { stop: Some(stop), task }
    }
}

/// A worker running on a Tokio task; [`stop`](WorkerHandle::stop) ends it gracefully
/// (jobs in flight finish first).
#[derive(Debug)]
pub struct WorkerHandle {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), JobsError>>,
}

impl WorkerHandle {
    /// Asks the worker to stop and waits until it has.
    pub async fn stop(mut self) -> Result<(), JobsError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.map_err(|e| JobsError::Worker(e.to_string()))?
    }
}

/// A name unique to one job type's worker: several may run in one process, and many
/// processes on many machines may share one storage. `<prefix>-<job>-<pid>-<id>`; the
/// job types of one [`Worker`] share the id.
fn worker_name(prefix: &str, job: &str, id: &str) -> String {
    format!("{prefix}-{job}-{}-{id}", std::process::id())
}

/// What the apalis worker of `J` hands every run.
struct Handler<J: Job> {
    context: J::Context,
    max_attempts: usize,
}

/// One run of a `J`: a retryable failure goes back to the retry policy, a permanent one
/// or one on the last attempt ends the job as dead (apalis' Redis storage would otherwise
/// schedule a failed job again below its own fixed limit of 25 attempts).
async fn execute<J: Job>(
    job: J,
    handler: Data<Arc<Handler<J>>>,
    attempt: Attempt,
    id: TaskId,
) -> Result<(), BoxDynError> {
    let Err(error) = job.run(&handler.context).await else { return Ok(()) };
    let attempt = attempt.current();
    let dead = error.is_permanent() || attempt >= handler.max_attempts;
    tracing::warn!(job = J::NAME, %id, attempt, max_attempts = handler.max_attempts, dead, error = %error, "job failed");
    Err(if dead { Box::new(AbortError::new(error)) } else { error.into() })
}

/// The worker of one job type, until `stop`.
async fn run_type<J: Job>(jobs: Jobs, context: J::Context, name: String, stop: Stop) -> Result<(), JobsError> {
    let config = &jobs.0.config;
    let queue = config.queue(J::NAME);
    let backoff = ExponentialBackoffMaker::new(config.backoff, config.backoff_max, 0.1, HasherRng::default())
        .map_err(|e| JobsError::Worker(format!("NETS_CORE_JOBS_BACKOFF_MS: {e}")))?
        .make_backoff();
    // Attempts count the first run: `max_attempts - 1` retries.
    let max_attempts = config.max_attempts as usize;
    let retry = RetryPolicy::retries(max_attempts.saturating_sub(1)).with_backoff(backoff);
    let handler = Arc::new(Handler::<J> { context, max_attempts });
    tracing::info!(worker = %name, queue = %queue, "job worker starting");
    // One arm per storage: apalis' backends are distinct types.
    macro_rules! run {
        ($backend:expr) => {
            WorkerBuilder::new(name.as_str())
                .backend($backend.poll_with_strategy(Tick::every(config.poll)))
                .data(handler)
                .concurrency(config.concurrency)
                .retry(retry)
                .build(execute::<J>)
                .run_until(async move {
                    stop.wait().await;
                    Ok::<(), std::io::Error>(())
                })
                .await
        };
    }
    let result = match &jobs.0.storage {
        JobStorage::Sqlite(pool) => {
            run!(SqliteStorage::<J>::new(pool).with_config(sqlite_config(config, &queue)))
        }
        #[cfg(feature = "postgres")]
        JobStorage::Postgres(pool) => {
            run!(PostgresStorage::<J>::new(pool).with_config(postgres_config(config, &queue)))
        }
        #[cfg(feature = "redis")]
        JobStorage::Redis(conn) => {
            run!(RedisStorage::<J>::new(conn.clone()).with_config(redis_config(config, &queue)))
        }
    };
    tracing::info!(worker = %name, "job worker stopped");
    result.map_err(|e| JobsError::Worker(e.to_string()))
}
