//! Push notifications through FCM HTTP v1: the original's `firebase_messages` (§11),
//! durable and with its defects fixed.
#![doc = include_str!("../../docs/push.md")]

mod credentials;
mod devices;
mod endpoints;
mod error;
mod fanout;
mod inbox;
mod job;
mod notification;
mod queue;
mod store;
mod token;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub use endpoints::{MarkedRead, TokenRegistered};
pub use error::SendError;
pub use fanout::{DeviceResult, FanoutProgress, Queued};
pub use inbox::InboxItem;
pub use job::PushFanout;
pub use notification::Notification;
pub use queue::QueuedPush;

use crate::Settings;
use crate::db::{Db, DbError};
use crate::jobs::{Jobs, QueueFilter};
use credentials::ServiceAccount;
use notification::{AndroidDefaults, Target, message_body};
use token::AccessTokens;
use transport::{Fcm, Limits, Transport};

/// A push problem that is not one message's fate: configuration, storage, the queue,
/// or a message refused before anything was stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// `FIREBASE_CONFIG` or another push setting is unusable.
    #[error("push settings: {0}")]
    Config(String),
    /// Persisted sends need a database.
    #[error("push needs a database for this: build Push with .database(db)")]
    NoDatabase,
    /// Queued sends need the job queue.
    #[error("push needs the job queue for this: build Push with .jobs(jobs)")]
    NoJobs,
    /// No such user.
    #[error("user {0} not found")]
    UnknownUser(i64),
    /// The message would be refused by FCM (see [`SendError::InvalidMessage`]).
    #[error(transparent)]
    Send(#[from] SendError),
    /// A database error.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A job storage error.
    #[error(transparent)]
    Jobs(#[from] crate::jobs::JobsError),
}

impl From<sqlx::Error> for PushError {
    fn from(e: sqlx::Error) -> Self {
        PushError::Db(DbError::Query(e))
    }
}

struct PushInner {
    transport: Transport,
    android: AndroidDefaults,
    limits: Limits,
    /// Sends in flight in this process, across every fan-out
    /// (`NETS_CORE_PUSH_CONCURRENCY`).
    slots: Semaphore,
    concurrency: usize,
    max_attempts: u32,
    db: Option<Db>,
    jobs: Option<Jobs>,
}

/// Sends push notifications: the transport (FCM, console or not configured), the
/// database of the notification rows and the job queue of fan-outs. Cheap to clone; build
/// one per application and [`install`](crate::AppBuilder::install) it.
#[derive(Clone)]
pub struct Push(Arc<PushInner>);

impl std::fmt::Debug for Push {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Push").field("transport", &self.0.transport).finish_non_exhaustive()
    }
}

/// Builds a [`Push`].
#[must_use = "a builder does nothing until .build()"]
pub struct PushBuilder {
    settings: Settings,
    config: Option<String>,
    db: Option<Db>,
    jobs: Option<Jobs>,
    prior_knowledge: bool,
}

impl PushBuilder {
    /// The database of the notification rows and devices.
    pub fn database(mut self, db: Db) -> Self {
        self.db = Some(db);
        self
    }
    /// The job queue that runs fan-outs ([`PushFanout`]).
    pub fn jobs(mut self, jobs: Jobs) -> Self {
        self.jobs = Some(jobs);
        self
    }
    /// A service account (a path or its JSON) instead of `FIREBASE_CONFIG`.
    pub fn service_account(mut self, path_or_json: impl Into<String>) -> Self {
        self.config = Some(path_or_json.into());
        self
    }
    /// Speak HTTP/2 from the first byte over plain `http://` (an h2c peer or proxy).
    /// Over `https://`, HTTP/2 is negotiated anyway.
    pub fn http2_prior_knowledge(mut self, on: bool) -> Self {
        self.prior_knowledge = on;
        self
    }

    /// Finishes: loads the service account. Without one, `DEBUG` logs every message
    /// (recorded as sent) and anything else warns once now and records every send as
    /// failed with `not_configured`. Fails on an unreadable or malformed service account.
    pub fn build(self) -> Result<Push, PushError> {
        let s = &self.settings;
        let limits = Limits {
            timeout: Duration::from_secs(s.push_timeout_seconds.max(1)),
            max_retries: s.push_max_retries,
            backoff: Duration::from_millis(s.push_backoff_ms.max(1)),
            backoff_max: Duration::from_millis(s.push_backoff_max_ms.max(s.push_backoff_ms).max(1)),
        };
        // The setting wins; the process environment is the original's fallback (and what
        // `Settings::from_toml` or `Settings::default()` never read).
        let config = match self.config {
            Some(config) => config,
            None if !s.firebase_config.expose().trim().is_empty() => s.firebase_config.expose().to_owned(),
            None => std::env::var("FIREBASE_CONFIG").unwrap_or_default(),
        };
        let transport = match ServiceAccount::from_config(&config)? {
            Some(account) => {
                let http = transport::http_client(&limits, self.prior_knowledge).map_err(PushError::Config)?;
                let tokens = AccessTokens::new(account, http.clone(), limits.timeout).map_err(PushError::Config)?;
                Transport::Fcm(Box::new(Fcm::new(tokens, http, &s.fcm_base_url, limits)))
            }
            None if s.debug => {
                tracing::info!("FIREBASE_CONFIG not set: push notifications are logged, not sent (DEBUG)");
                Transport::Console
            }
            None => {
                tracing::warn!(
                    "FIREBASE_CONFIG not set: every push notification is recorded as failed (not_configured)"
                );
                Transport::NotConfigured
            }
        };
        let concurrency = s.push_concurrency.max(1);
        Ok(Push(Arc::new(PushInner {
            transport,
            android: AndroidDefaults {
                priority: s.push_android_priority.clone(),
                icon: s.push_android_icon.clone(),
                color: s.push_android_color.clone(),
                channel: s.push_android_channel.clone(),
            },
            limits,
            slots: Semaphore::new(concurrency),
            concurrency,
            max_attempts: s.jobs_max_attempts.max(1),
            db: self.db,
            jobs: self.jobs,
        })))
    }
}

impl Push {
    /// Starts from the settings (`FIREBASE_CONFIG`, `NETS_CORE_FCM_BASE_URL`,
    /// `NETS_CORE_PUSH_*`).
    pub fn builder(settings: &Settings) -> PushBuilder {
        PushBuilder { settings: settings.clone(), config: None, db: None, jobs: None, prior_knowledge: false }
    }

    /// Whether messages really go to FCM (`false`: console or not configured).
    pub fn is_configured(&self) -> bool {
        matches!(self.0.transport, Transport::Fcm(_))
    }

    /// Access tokens fetched from the token endpoint so far (0 without FCM): each is
    /// one assertion exchange, shared by every send until it nears expiry.
    pub fn access_token_fetches(&self) -> u64 {
        match &self.0.transport {
            Transport::Fcm(fcm) => fcm.tokens.fetches(),
            _ => 0,
        }
    }

    fn db(&self) -> Result<&Db, PushError> {
        self.0.db.as_ref().ok_or(PushError::NoDatabase)
    }

    fn jobs(&self) -> Result<&Jobs, PushError> {
        self.0.jobs.as_ref().ok_or(PushError::NoJobs)
    }

    /// Sends one message to one device token now, without storing anything: the FCM
    /// message name (`projects/<p>/messages/<id>`), or why not.
    ///
    /// ```no_run
    /// # async fn demo(push: nets_runtime::push::Push) {
    /// use nets_runtime::push::{Notification, SendError};
    ///
    /// match push.send_to_token("fcm-token-of-the-device", &Notification::new("Hi", "there")).await {
    ///     Ok(name) => println!("sent: {name}"),
    ///     Err(SendError::DeadToken { .. }) => println!("forget this token"),
    ///     Err(e) => println!("not sent: {e}"),
    /// }
    /// # }
    /// ```
    pub async fn send_to_token(&self, token: &str, notification: &Notification) -> Result<String, SendError> {
        if token.trim().is_empty() {
            return Err(SendError::InvalidMessage("the token is empty".into()));
        }
        self.send(Target::Token(token), notification).await
    }

    /// Sends one message to every device subscribed to `topic` (letters, digits and
    /// `-_.~%`, as FCM takes them), without storing anything.
    ///
    /// ```no_run
    /// # async fn demo(push: nets_runtime::push::Push) -> Result<(), nets_runtime::push::SendError> {
    /// use nets_runtime::push::Notification;
    ///
    /// // Data only: apps refresh in the background, nothing is shown.
    /// let sync = Notification::default().data("sync", serde_json::json!("catalogue"));
    /// let name = push.send_to_topic("catalogue-updates", &sync).await?;
    /// # let _ = name; Ok(()) }
    /// ```
    pub async fn send_to_topic(&self, topic: &str, notification: &Notification) -> Result<String, SendError> {
        let topic = topic.strip_prefix("/topics/").unwrap_or(topic);
        let valid = !topic.is_empty()
            && topic.len() <= 900
            && topic.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b));
        if !valid {
            return Err(SendError::InvalidMessage(format!("{topic:?} is not an FCM topic name")));
        }
        self.send(Target::Topic(topic), notification).await
    }

    /// One message, through a send slot (`NETS_CORE_PUSH_CONCURRENCY` per process).
    async fn send(&self, target: Target<'_>, n: &Notification) -> Result<String, SendError> {
        n.validate()?;
        let body = message_body(target, n, &self.0.android);
        // Closed only when Push is dropped, which cannot happen while `self` lives.
        let _slot = self.0.slots.acquire().await.map_err(|e| SendError::Unavailable(e.to_string()))?;
        match &self.0.transport {
            Transport::Fcm(fcm) => fcm.send(&body).await,
            Transport::Console => {
                let to = match target {
                    Target::Token(t) => format!("token …{}", t.get(t.len().saturating_sub(6)..).unwrap_or("")),
                    Target::Topic(t) => format!("topic {t}"),
                };
                let name = format!("projects/debug/messages/console-{}", uuid::Uuid::new_v4().simple());
                tracing::info!(%to, title = %n.title, body = %n.body, data = %serde_json::Value::Object(n.data_strings()),
                    %name, "push (console, DEBUG): recorded as sent");
                Ok(name)
            }
            Transport::NotConfigured => Err(SendError::NotConfigured),
        }
    }

    /// Deliveries matching `filter`, oldest first (at most `limit`).
    pub async fn queue(&self, filter: QueueFilter, limit: i64) -> Result<Vec<QueuedPush>, PushError> {
        Ok(queue::list(self.db()?, filter, self.0.max_attempts, limit).await?)
    }

    /// Sends a failed or dead delivery again: back to `queued`, attempts reset, and a
    /// fan-out job for its notification (which sends only what is not sent). `false`
    /// when the delivery is not failed or dead.
    pub async fn retry(&self, delivery_id: i64) -> Result<bool, PushError> {
        let db = self.db()?;
        let jobs = self.jobs()?;
        let Some(notification_id) = store::requeue(db, delivery_id).await? else { return Ok(false) };
        jobs.enqueue(PushFanout { notification_id }).await?;
        Ok(true)
    }
}
