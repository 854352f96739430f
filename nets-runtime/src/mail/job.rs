//! The e-mail job: one queued `nets_email_notification` row to send, a [`Job`] like any
//! application's, written against the public jobs API only.

use serde::{Deserialize, Serialize};

use super::{DeliverError, Mailer};
use crate::jobs::{Job, JobError, Jobs, JobsError, WorkerHandle};

/// Sends one queued e-mail (a `nets_email_notification` row). Queued by
/// [`EmailBuilder::send`](super::EmailBuilder::send) and [`Mailer::retry`]; run by every
/// worker that registered it:
///
/// ```no_run
/// # async fn demo(jobs: nets_runtime::jobs::Jobs, mailer: nets_runtime::mail::Mailer)
/// # -> Result<(), nets_runtime::jobs::JobsError> {
/// use nets_runtime::mail::SendEmail;
///
/// let worker = jobs.worker().register::<SendEmail>(mailer).spawn()?;
/// # worker.stop().await }
/// ```
///
/// Its queue is `<NETS_CORE_JOBS_QUEUE_PREFIX>:email` and its payload
/// `{"notification_id": <row id>}`, as before the job queue stood alone, so e-mails
/// queued by an earlier version are sent by this one. The row makes it idempotent:
/// a job for a row already `sent` does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendEmail {
    /// The row to send.
    pub notification_id: i64,
}

impl Job for SendEmail {
    const NAME: &'static str = "email";
    type Context = Mailer;

    /// Sends the row and records the outcome on it ([`Mailer::deliver_queued`]): every
    /// failure is on the row too (`last_error`), where `quickstart email list` shows it.
    async fn run(&self, mailer: &Mailer) -> Result<(), JobError> {
        match mailer.deliver_queued(self.notification_id).await {
            Ok(_) => Ok(()),
            Err(DeliverError::Retry(e)) => Err(JobError::Retry(e)),
            Err(DeliverError::Permanent(e)) => Err(JobError::Permanent(e)),
        }
    }
}

/// The e-mail shorthands of the time the job queue ran only e-mail.
impl Jobs {
    /// Queues a [`SendEmail`] job.
    #[deprecated(note = "use `jobs.enqueue(SendEmail { notification_id })`")]
    pub async fn enqueue_email(&self, notification_id: i64) -> Result<(), JobsError> {
        self.enqueue(SendEmail { notification_id }).await.map(drop)
    }

    /// Runs a worker for the e-mail job until `shutdown` completes.
    #[deprecated(note = "use `jobs.worker().register::<SendEmail>(mailer).run(shutdown)`, adding the other job types")]
    pub async fn run_worker(
        &self,
        mailer: Mailer,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), JobsError> {
        self.worker().register::<SendEmail>(mailer).run(shutdown).await
    }

    /// Runs a worker for the e-mail job on a Tokio task.
    #[deprecated(note = "use `jobs.worker().register::<SendEmail>(mailer).spawn()`, adding the other job types")]
    pub fn spawn_worker(&self, mailer: Mailer) -> WorkerHandle {
        // One job type: nothing for `Worker::spawn` to refuse.
        self.worker().register::<SendEmail>(mailer).spawn_unchecked()
    }
}

/// Installs the mailer: state for handlers (`State<Mailer>`) and the e-mail job for the
/// app's workers ([`App::worker`](crate::App::worker)).
impl crate::Module for Mailer {
    fn install(self, app: crate::AppBuilder) -> crate::AppBuilder {
        app.job::<SendEmail>(self.clone()).state(self)
    }
}
