//! Fan-out to a user's devices (the original's `send_user_device_notification`, run by
//! the job `send_user_devices_notifications`): persisted first, one message per
//! distinct token of an active device, each delivery claimed before it is sent and its
//! outcome recorded, dead tokens retired.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;

use super::notification::Target;
use super::store::{self, Delivery};
use super::{Notification, Push, PushError, PushFanout, SendError};
use crate::db::Db;
use crate::jobs::JobId;

/// One device's outcome, as the original's result map has it:
/// `{"success": true, "message_id": ".."}` or `{"success": false, "error": ".."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceResult {
    /// Whether FCM accepted the message for this device.
    pub success: bool,
    /// The FCM message name, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Why not, when not sent: a [`SendError::reason`] code, then the detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DeviceResult {
    fn sent(message_id: String) -> DeviceResult {
        DeviceResult { success: true, message_id: Some(message_id), error: None }
    }
    fn failed(error: impl Into<String>) -> DeviceResult {
        DeviceResult { success: false, message_id: None, error: Some(error.into()) }
    }
}

/// What [`Push::send_to_user`] queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The `nets_push_notification` row (listed by the notifications endpoint even when
    /// no device gets it).
    pub notification_id: i64,
    /// Devices it goes to (one per distinct token).
    pub devices: usize,
    /// The fan-out job; `None` when there is no device to send to.
    pub job: Option<JobId>,
}

/// How far a many-user send got ([`Push::send_to_users`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FanoutProgress {
    /// Users asked for.
    pub total: usize,
    /// Users handled so far.
    pub processed: usize,
    /// Notifications queued with at least one device.
    pub queued: usize,
    /// Users with no device to send to (their notification is stored, not sent).
    pub without_device: usize,
    /// Users not found.
    pub unknown_users: usize,
}

/// One delivery's state after a run: the status it was left in and its result.
struct Outcome {
    device_id: i64,
    status: &'static str,
    result: DeviceResult,
}

/// Users queued between two progress reports.
const PROGRESS_EVERY: usize = 100;

impl Push {
    /// Stores the notification for each of the user's devices and queues a fan-out job
    /// ([`PushFanout`]) that sends them; returns at once.
    ///
    /// ```no_run
    /// # async fn demo(push: nets_runtime::push::Push) -> Result<(), nets_runtime::push::PushError> {
    /// use nets_runtime::push::Notification;
    ///
    /// let queued = push.send_to_user(7, Notification::new("New message", "Ada: see you at 6")).await?;
    /// println!("notification {} to {} device(s)", queued.notification_id, queued.devices);
    /// # Ok(()) }
    /// ```
    pub async fn send_to_user(&self, user_id: i64, notification: Notification) -> Result<Queued, PushError> {
        let (notification_id, devices) = self.store(user_id, &notification).await?;
        if devices == 0 {
            return Ok(Queued { notification_id, devices, job: None });
        }
        let job = self.enqueue(notification_id).await?;
        Ok(Queued { notification_id, devices, job: Some(job) })
    }

    /// Stores and sends now, returning each device's outcome keyed by device id (the
    /// original's `send_user_device_notification` result). Deliveries that failed in a
    /// way worth retrying are left to a fan-out job when the job queue is configured.
    ///
    /// ```no_run
    /// # async fn demo(push: nets_runtime::push::Push) -> Result<(), nets_runtime::push::PushError> {
    /// use nets_runtime::push::Notification;
    ///
    /// let results = push.send_to_user_now(7, Notification::new("Hi", "there")).await?;
    /// // {"17": {"success": true, "message_id": "projects/p/messages/1"}}
    /// println!("{}", serde_json::to_string(&results).unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn send_to_user_now(
        &self,
        user_id: i64,
        notification: Notification,
    ) -> Result<BTreeMap<i64, DeviceResult>, PushError> {
        let (notification_id, devices) = self.store(user_id, &notification).await?;
        if devices == 0 {
            return Ok(BTreeMap::new());
        }
        let (results, pending) = self.deliver(notification_id).await?;
        if pending > 0 && self.0.jobs.is_some() {
            self.enqueue(notification_id).await?;
        }
        Ok(results)
    }

    /// [`send_to_user`](Push::send_to_user) for many users: a fan-out job each, queued
    /// a few at a time, with `progress` called every 100 users and at the end. Unknown
    /// users are counted and skipped.
    ///
    /// ```no_run
    /// # async fn demo(push: nets_runtime::push::Push) -> Result<(), nets_runtime::push::PushError> {
    /// use nets_runtime::push::Notification;
    ///
    /// let everyone: Vec<i64> = (1..=5000).collect();
    /// let n = Notification::new("We moved", "Our new address is in the app");
    /// let done = push.send_to_users(&everyone, &n, |p| eprintln!("{}/{}", p.processed, p.total)).await?;
    /// println!("{} queued, {} without a device", done.queued, done.without_device);
    /// # Ok(()) }
    /// ```
    pub async fn send_to_users(
        &self,
        user_ids: &[i64],
        notification: &Notification,
        mut progress: impl FnMut(FanoutProgress),
    ) -> Result<FanoutProgress, PushError> {
        notification.validate()?;
        let mut state = FanoutProgress { total: user_ids.len(), ..FanoutProgress::default() };
        progress(state);
        // A few at a time: each is two or three statements and a job, and a database
        // pool of 8 serves the API meanwhile.
        let mut queued = futures_util::stream::iter(user_ids)
            .map(|user| self.send_to_user(*user, notification.clone()))
            .buffer_unordered(4);
        while let Some(result) = queued.next().await {
            match result {
                Ok(q) if q.devices == 0 => state.without_device += 1,
                Ok(_) => state.queued += 1,
                Err(PushError::UnknownUser(_)) => state.unknown_users += 1,
                Err(e) => return Err(e),
            }
            state.processed += 1;
            if state.processed.is_multiple_of(PROGRESS_EVERY) {
                progress(state);
            }
        }
        if !state.processed.is_multiple_of(PROGRESS_EVERY) || state.processed == 0 {
            progress(state);
        }
        Ok(state)
    }

    /// Writes the notification and its deliveries: (id, number of devices).
    async fn store(&self, user_id: i64, notification: &Notification) -> Result<(i64, usize), PushError> {
        notification.validate()?;
        let db = self.db()?;
        if !store::user_exists(db, user_id).await? {
            return Err(PushError::UnknownUser(user_id));
        }
        let devices = store::targets(db, user_id).await?;
        let id = store::insert(db, user_id, notification, &devices).await?;
        Ok((id, devices.len()))
    }

    async fn enqueue(&self, notification_id: i64) -> Result<JobId, PushError> {
        let jobs = self.jobs()?;
        match jobs.enqueue(PushFanout { notification_id }).await {
            Ok(job) => Ok(job),
            Err(e) => {
                // The rows stay `queued`: `push list` shows them and `push retry` (or a
                // later fan-out of the same notification) sends them.
                tracing::error!(error = %e, notification_id, "push fan-out not queued");
                Err(e.into())
            }
        }
    }

    /// Sends every delivery of notification `id` that is not sent or dead yet (what the
    /// [`PushFanout`] job runs): each device's result, and how many deliveries are left
    /// pending (failed in a way worth retrying, or held by another worker).
    pub async fn deliver(&self, id: i64) -> Result<(BTreeMap<i64, DeviceResult>, usize), PushError> {
        let db = self.db()?;
        let Some(stored) = store::load(db, id).await? else {
            return Ok((BTreeMap::new(), 0));
        };
        let rows = store::deliveries(db, id).await?;
        let lease = self.0.limits.worst_case() + Duration::from_secs(5);
        let n = &stored.notification;
        let outcomes: Vec<Result<Outcome, PushError>> = futures_util::stream::iter(rows)
            .map(|row| self.deliver_one(db, n, row, lease))
            .buffer_unordered(self.0.concurrency)
            .collect()
            .await;
        let mut results = BTreeMap::new();
        let mut statuses = Vec::with_capacity(outcomes.len());
        let mut last_error = None;
        for outcome in outcomes {
            let outcome = outcome?;
            if let Some(e) = &outcome.result.error {
                last_error = Some(e.clone());
            }
            statuses.push(outcome.status);
            results.insert(outcome.device_id, outcome.result);
        }
        store::finish(db, id, &statuses, last_error.as_deref()).await?;
        let pending = statuses.iter().filter(|s| matches!(**s, "queued" | "sending" | "failed")).count();
        tracing::debug!(
            notification = id,
            user = stored.user_id,
            devices = statuses.len(),
            pending,
            "push fan-out ran"
        );
        Ok((results, pending))
    }

    async fn deliver_one(
        &self,
        db: &Db,
        n: &Notification,
        row: Delivery,
        lease: Duration,
    ) -> Result<Outcome, PushError> {
        let device_id = row.device_id;
        let done = |status: &'static str, result: DeviceResult| Ok(Outcome { device_id, status, result });
        match row.status.as_str() {
            "sent" => return done("sent", DeviceResult::sent(row.message_id.unwrap_or_default())),
            "dead" => return done("dead", DeviceResult::failed(row.error.unwrap_or_default())),
            _ => {}
        }
        if !store::claim(db, row.id, lease).await? {
            return done("sending", DeviceResult::failed("busy: being sent by another worker"));
        }
        let token = match row.firebase_token.filter(|t| row.active && !t.trim().is_empty()) {
            Some(token) => token,
            None => {
                let why = "no_token: the device no longer has an active push token";
                store::mark_failed(db, row.id, why, true).await?;
                return done("dead", DeviceResult::failed(why));
            }
        };
        match self.send(Target::Token(&token), n).await {
            Ok(name) => {
                store::mark_sent(db, row.id, &name).await?;
                done("sent", DeviceResult::sent(name))
            }
            Err(e) => {
                let text = e.to_string();
                let retry = e.is_retryable();
                store::mark_failed(db, row.id, &text, !retry).await?;
                if let SendError::DeadToken { .. } = e
                    && store::retire_token(db, device_id, &token, &text).await?
                {
                    tracing::info!(device_id, reason = %text, "push token retired: the device is inactive until it registers a new one");
                }
                done(if retry { "failed" } else { "dead" }, DeviceResult::failed(text))
            }
        }
    }
}
