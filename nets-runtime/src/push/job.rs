//! The fan-out job (the original's Celery task `send_user_devices_notifications`), and
//! the module installation.

use serde::{Deserialize, Serialize};

use super::{Push, PushError};
use crate::jobs::{Job, JobError};

/// Sends one stored notification to its devices ([`Push::deliver`]). Queued by
/// [`Push::send_to_user`] and [`Push::retry`]; run by every worker that registered it
/// (installing [`Push`] registers it on the app's workers):
///
/// ```no_run
/// # async fn demo(jobs: nets_runtime::jobs::Jobs, push: nets_runtime::push::Push)
/// # -> Result<(), nets_runtime::jobs::JobsError> {
/// use nets_runtime::push::PushFanout;
///
/// let worker = jobs.worker().register::<PushFanout>(push).spawn()?;
/// # worker.stop().await }
/// ```
///
/// Its queue is `<NETS_CORE_JOBS_QUEUE_PREFIX>:push.fanout` and its payload
/// `{"notification_id": <row id>}`. The delivery rows make it idempotent: a device
/// already recorded as sent is never sent again, however often the job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushFanout {
    /// The `nets_push_notification` row.
    pub notification_id: i64,
}

impl Job for PushFanout {
    const NAME: &'static str = "push.fanout";
    type Context = Push;

    /// Sends what is not sent yet; retried (with the queue's backoff) while a delivery
    /// failed in a way worth retrying.
    async fn run(&self, push: &Push) -> Result<(), JobError> {
        match push.deliver(self.notification_id).await {
            Ok((_, 0)) => Ok(()),
            Ok((_, pending)) => {
                Err(JobError::retry(format!("notification {}: {pending} deliveries to retry", self.notification_id)))
            }
            Err(e @ (PushError::NoDatabase | PushError::Config(_))) => Err(JobError::permanent(e)),
            Err(e) => Err(JobError::retry(e)),
        }
    }
}

/// Installs push: state for handlers (`State<Push>`), the fan-out job for the app's
/// workers, and the endpoints (`push/token/`, `push/notifications/`,
/// `push/notifications/read/`). The app does not build when the `Push` has no database.
impl crate::Module for Push {
    fn install(self, app: crate::AppBuilder) -> crate::AppBuilder {
        // Without a database its endpoints and fan-outs could only fail: refuse to start.
        let has_db = self.0.db.is_some();
        app.routes(crate::module::builtin_routes("nets_runtime::push"))
            .job::<PushFanout>(self.clone())
            .state(self)
            .check("the push module", move |_| match has_db {
                true => Ok(()),
                false => Err(PushError::NoDatabase.to_string()),
            })
    }
}
