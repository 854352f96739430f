//! Workers: pull jobs from the storage and run them, with retries and backoff.

use std::future::Future;

use apalis::layers::retry::HasherRng;
use apalis::layers::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use tokio::sync::oneshot;

use super::storage::{JobStorage, postgres_config, redis_config, sqlite_config};
use super::{Jobs, JobsError, SendEmail};
use crate::mail::Mailer;

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

/// A name unique to this worker: several may run in one process, and many processes
/// on many machines may share one storage.
fn worker_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-email-{}-{}", std::process::id(), &id[..12])
}

/// The e-mail job: send the row, record the outcome on it.
async fn send_email(job: SendEmail, mailer: Data<Mailer>) -> Result<(), BoxDynError> {
    mailer.deliver_queued(job.notification_id).await.map(drop).map_err(|e| {
        tracing::warn!(notification_id = job.notification_id, error = %e, "queued e-mail not sent");
        e.into_job_error()
    })
}

impl Jobs {
    /// Runs one worker for the built-in jobs until `shutdown` completes.
    pub async fn run_worker(
        &self,
        mailer: Mailer,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), JobsError> {
        let config = &self.0.config;
        let queue = config.email_queue();
        let name = worker_name(&config.queue_prefix);
        let backoff = ExponentialBackoffMaker::new(config.backoff, config.backoff_max, 0.1, HasherRng::default())
            .map_err(|e| JobsError::Worker(format!("NETS_CORE_JOBS_BACKOFF_MS: {e}")))?
            .make_backoff();
        // Attempts count the first run: `max_attempts - 1` retries.
        let retry = RetryPolicy::retries(config.max_attempts.saturating_sub(1) as usize).with_backoff(backoff);
        tracing::info!(worker = %name, queue = %queue, "job worker starting");
        // One arm per storage: apalis' backends are distinct types.
        macro_rules! run {
            ($backend:expr) => {
                WorkerBuilder::new(name.as_str())
                    .backend($backend.poll_with_interval(config.poll))
                    .data(mailer)
                    .concurrency(config.concurrency)
                    .retry(retry)
                    .build(send_email)
                    .run_until(async move {
                        shutdown.await;
                        Ok::<(), std::io::Error>(())
                    })
                    .await
            };
        }
        let result = match &self.0.storage {
            JobStorage::Sqlite(pool) => {
                run!(SqliteStorage::<SendEmail>::new(pool).with_config(sqlite_config(config, &queue)))
            }
            JobStorage::Postgres(pool) => {
                run!(PostgresStorage::<SendEmail>::new(pool).with_config(postgres_config(config, &queue)))
            }
            JobStorage::Redis(conn) => {
                run!(RedisStorage::<SendEmail>::new(conn.clone()).with_config(redis_config(config, &queue)))
            }
        };
        tracing::info!(worker = %name, "job worker stopped");
        result.map_err(|e| JobsError::Worker(e.to_string()))
    }

    /// Runs a worker on a Tokio task (how the server runs one beside the API).
    pub fn spawn_worker(&self, mailer: Mailer) -> WorkerHandle {
        let (stop, stopped) = oneshot::channel::<()>();
        let jobs = self.clone();
        let task = tokio::spawn(async move {
            jobs.run_worker(mailer, async move {
                let _ = stopped.await;
            })
            .await
        });
        WorkerHandle { stop: Some(stop), task }
    }
}
