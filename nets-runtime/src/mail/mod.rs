//! E-mail: the original's `send_email`, with its reason codes and its intended rules.
//!
//! ```no_run
//! # async fn demo(mailer: nets_runtime::mail::Mailer) {
//! use nets_runtime::mail::Reason;
//! use serde_json::json;
//!
//! let outcome = mailer
//!     .email("Verification code")
//!     .to("ada@example.com")
//!     .template("nets_core/email/verification_code.html")
//!     .context(json!({"button_link": {"url": "", "label": "493817"}}))
//!     .queued(false)
//!     .send()
//!     .await;
//! assert_eq!(outcome.reason, Reason::EmailSent);
//! let (sent, code, description) = outcome.into_tuple(); // the original's triple
//! # }
//! ```
//!
//! Processing order (§10.2 of the original, with its defects fixed):
//!
//! 1. `DEBUG` on and `NETS_CORE_EMAIL_DEBUG_ENABLED` off: `email_disabled`, unless
//!    [`force`](EmailBuilder::force)d.
//! 2. Attachments must have a plain file name and a MIME type: else `invalid_attachment`.
//! 3. Recipients: invalid addresses and domains matching `NETS_CORE_EMAIL_EXCLUDE_DOMAINS`
//!    (`*` wildcards work) are dropped and named in the description; every address is
//!    checked. None left: `empty_email`.
//! 4. Body: a [`template`](EmailBuilder::template) (file or built in), a
//!    [`stored_template`](EmailBuilder::stored_template) (`nets_email_template`) or inline
//!    [`html`](EmailBuilder::html), all rendered with the context (the original crashed on
//!    `html` with a context). Templates get the footer before `</body>`
//!    (`NETS_CORE_EMAIL_FOOTER_ENABLED`, `_FOOTER`, `_FOOTER_TEMPLATE`, the template
//!    winning). Missing: `template_not_found`; broken: `template_syntax_error`; none given:
//!    `template_or_html_required`.
//! 5. Text part: the [`text_template`](EmailBuilder::text_template) rendered *with* the
//!    context, else derived from the HTML.
//! 6. Attachments force an immediate send (queued rows carry no files), and so do
//!    [`sensitive`](EmailBuilder::sensitive) bodies (login codes): no row ever holds them.
//! 7. Queued (the default): one `nets_email_notification` row and one [`SendEmail`]
//!    job per recipient: `email_in_queue`. A worker sends it and records every attempt
//!    and its outcome on the row.
//! 8. Immediate: one message per recipient (the original put every recipient on one
//!    message, showing everyone's address to everyone): `email_sent` when at least one was
//!    accepted, `email_not_sent` otherwise, the description naming failures.
//!
//! Queued e-mails are sent by [`SendEmail`], a job type on the [`jobs`](crate::jobs)
//! queue: register it on the application's workers.

mod attachment;
mod bulk;
mod job;
mod outcome;
mod queue;
mod recipients;
mod templates;
mod transport;

use std::sync::Arc;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use minijinja::Value;

pub use crate::jobs::QueueFilter;
pub use attachment::Attachment;
pub use bulk::{BulkProgress, BulkStatus};
pub use job::SendEmail;
pub use outcome::{Outcome, Reason};
pub use queue::QueuedEmail;
pub use transport::Transport;

use crate::Settings;
use crate::db::{Db, DbError};
use crate::jobs::Jobs;
use outcome::join;
use templates::{RenderError, Templates};

/// A mail configuration problem, found when the [`Mailer`] is built or used for the
/// queue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// A setting is unusable.
    #[error("mail settings: {0}")]
    Config(String),
    /// The queue needs a database.
    #[error("the e-mail queue needs a database: build the Mailer with .database(db)")]
    NoDatabase,
    /// The queue needs a job storage.
    #[error("the e-mail queue needs a job queue: build the Mailer with .jobs(jobs)")]
    NoJobs,
    /// A database error.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A job storage error.
    #[error(transparent)]
    Jobs(#[from] crate::jobs::JobsError),
}

impl From<sqlx::Error> for MailError {
    fn from(e: sqlx::Error) -> Self {
        MailError::Db(DbError::Query(e))
    }
}

struct MailerInner {
    settings: Settings,
    transport: Transport,
    templates: Templates,
    db: Option<Db>,
    jobs: Option<Jobs>,
}

/// Sends e-mail: settings, a [`Transport`], the templates, and (for the queue) the
/// database and the job queue. Cheap to clone; build one per application and share it
/// (for example as app state: `App::builder(..).state(mailer)`).
#[derive(Clone)]
pub struct Mailer(Arc<MailerInner>);

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("transport", &self.0.transport).finish_non_exhaustive()
    }
}

/// Builds a [`Mailer`].
pub struct MailerBuilder {
    settings: Settings,
    transport: Option<Transport>,
    db: Option<Db>,
    jobs: Option<Jobs>,
}

impl MailerBuilder {
    /// Uses `transport` instead of the one `EMAIL_BACKEND` names.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = Some(transport);
        self
    }
    /// The database of the queue and of stored templates.
    pub fn database(mut self, db: Db) -> Self {
        self.db = Some(db);
        self
    }
    /// The job queue that sends queued e-mails.
    pub fn jobs(mut self, jobs: Jobs) -> Self {
        self.jobs = Some(jobs);
        self
    }
    /// Finishes the mailer; fails when `EMAIL_BACKEND` and its settings are unusable.
    pub fn build(self) -> Result<Mailer, MailError> {
        let transport = match self.transport {
            Some(t) => t,
            None => Transport::from_settings(&self.settings)?,
        };
        let templates = Templates::new(self.settings.email_templates_dir.as_deref());
        Ok(Mailer(Arc::new(MailerInner {
            settings: self.settings,
            transport,
            templates,
            db: self.db,
            jobs: self.jobs,
        })))
    }
}

/// What the e-mail is made of.
enum Body {
    Template(String),
    Stored(String),
    Html(String),
    /// A `nets_custom_email`: its HTML and text, rendered like templates (with footer).
    Custom {
        html: String,
        text: Option<String>,
    },
}

/// One e-mail being put together: [`Mailer::email`]. Ends with [`send`](Self::send).
#[must_use = "an e-mail is only sent by .send().await"]
pub struct EmailBuilder<'m> {
    mailer: &'m Mailer,
    subject: String,
    to: Vec<String>,
    body: Option<Body>,
    context: Value,
    text_template: Option<String>,
    queued: bool,
    force: bool,
    attachments: Vec<Attachment>,
    custom_email_id: Option<i64>,
    sensitive: bool,
}

impl<'m> EmailBuilder<'m> {
    /// Adds a recipient.
    pub fn to(mut self, address: impl Into<String>) -> Self {
        self.to.push(address.into());
        self
    }
    /// Adds recipients.
    pub fn to_all<I: IntoIterator<Item = S>, S: Into<String>>(mut self, addresses: I) -> Self {
        self.to.extend(addresses.into_iter().map(Into::into));
        self
    }
    /// The body: a template file (`NETS_CORE_EMAIL_TEMPLATES_DIR` or built in).
    pub fn template(mut self, name: impl Into<String>) -> Self {
        self.body = Some(Body::Template(name.into()));
        self
    }
    /// The body: the enabled `nets_email_template` row called `name` (its `html_body`,
    /// and its `text_body` as the text part unless a text template is given).
    pub fn stored_template(mut self, name: impl Into<String>) -> Self {
        self.body = Some(Body::Stored(name.into()));
        self
    }
    /// The body: HTML template text given inline (no footer, as in the original).
    pub fn html(mut self, html: impl Into<String>) -> Self {
        self.body = Some(Body::Html(html.into()));
        self
    }
    /// The values templates see. Anything serializable; a value that does not serialize
    /// renders as empty.
    pub fn context(mut self, context: impl serde::Serialize) -> Self {
        self.context = Value::from(minijinja::value::Serde(context));
        self
    }
    /// A template for the text part, rendered with the context.
    pub fn text_template(mut self, name: impl Into<String>) -> Self {
        self.text_template = Some(name.into());
        self
    }
    /// Queue for a worker (`true`, the default) or send now.
    pub fn queued(mut self, queued: bool) -> Self {
        self.queued = queued;
        self
    }
    /// Send even when `DEBUG` disables e-mail.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }
    /// The body carries a secret (a login code, a reset link): it is sent now and never
    /// written to `nets_email_notification`, so no database copy or backup holds it.
    /// There is no queued retry: the caller decides whether to try again.
    pub fn sensitive(mut self, sensitive: bool) -> Self {
        self.sensitive = sensitive;
        self
    }
    /// Attaches a file (and switches to an immediate send).
    pub fn attach(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }
    pub(crate) fn custom_email(mut self, id: i64, html: String, text: Option<String>) -> Self {
        self.custom_email_id = Some(id);
        self.body = Some(Body::Custom { html, text });
        self
    }

    /// Sends (or queues) the e-mail. Never panics and never fails: every problem is an
    /// [`Outcome`] with its reason code.
    pub async fn send(self) -> Outcome {
        let m = &self.mailer.0;
        let s = &m.settings;
        // 1. Debug.
        if s.debug && !s.email_debug_enabled && !self.force {
            return Outcome::new(false, Reason::EmailDisabled, Reason::EmailDisabled.text());
        }
        // 2. Attachments.
        let mut parts = Vec::with_capacity(self.attachments.len());
        for a in &self.attachments {
            match a.to_part() {
                Ok(part) => parts.push(part),
                Err(why) => return Outcome::failed(Reason::InvalidAttachment, &why),
            }
        }
        // 3. Recipients.
        let filtered = recipients::filter(self.to.iter().map(String::as_str), &s.email_exclude_domains);
        let explanation = filtered.explanation();
        if !explanation.is_empty() {
            tracing::info!(excluded = ?filtered.excluded, "e-mail recipients dropped");
        }
        if filtered.kept.is_empty() {
            return Outcome::failed(Reason::EmptyEmail, &explanation);
        }
        // 4–5. Body and text part.
        let (html, text) = match self.mailer.render(&self.body, self.text_template.as_deref(), &self.context).await {
            Ok(rendered) => rendered,
            Err(e) => return Outcome::failed(e.reason, &join(&e.detail, &explanation)),
        };
        // 6. Attachments and secrets are never queued.
        let queued = self.queued && parts.is_empty() && !self.sensitive;
        if self.queued && !parts.is_empty() {
            tracing::warn!("e-mail with attachments: sending now instead of queueing");
        }
        if queued {
            return self
                .mailer
                .enqueue(&self.subject, &filtered.kept, &html, &text, self.custom_email_id, &explanation)
                .await;
        }
        // 8. Immediate: one message per recipient.
        let (mut sent, mut failures) = (0usize, Vec::new());
        for to in &filtered.kept {
            let result = match self.mailer.message(to, &self.subject, &html, &text, &parts) {
                Ok(message) => m.transport.send(message).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => sent += 1,
                Err(e) => {
                    tracing::warn!(to = %to, error = %e, "e-mail not sent");
                    failures.push(format!("{to}: {e}"));
                }
            }
        }
        let failures = failures.join("; ");
        if sent == 0 {
            return Outcome::failed(Reason::EmailNotSent, &join(&failures, &explanation));
        }
        let detail = join(&sent.to_string(), &join(&explanation, &failures));
        Outcome::new(true, Reason::EmailSent, join(Reason::EmailSent.text(), &detail))
    }
}

impl Mailer {
    /// Starts a mailer from the settings (`EMAIL_BACKEND` and the rest).
    pub fn builder(settings: &Settings) -> MailerBuilder {
        MailerBuilder { settings: settings.clone(), transport: None, db: None, jobs: None }
    }

    /// Starts an e-mail with `subject`. Queued by default, as in the original.
    pub fn email(&self, subject: impl Into<String>) -> EmailBuilder<'_> {
        EmailBuilder {
            mailer: self,
            subject: subject.into(),
            to: Vec::new(),
            body: None,
            context: Value::UNDEFINED,
            text_template: None,
            queued: true,
            force: false,
            attachments: Vec::new(),
            custom_email_id: None,
            sensitive: false,
        }
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    fn db(&self) -> Result<&Db, MailError> {
        self.0.db.as_ref().ok_or(MailError::NoDatabase)
    }

    /// HTML (with footer for templates) and text.
    async fn render(
        &self,
        body: &Option<Body>,
        text_template: Option<&str>,
        ctx: &Value,
    ) -> Result<(String, String), RenderError> {
        let t = &self.0.templates;
        let (html, stored_text) = match body {
            None => {
                return Err(RenderError { reason: Reason::TemplateOrHtmlRequired, detail: String::new() });
            }
            Some(Body::Template(name)) => (self.with_footer(t.render(name, ctx)?, ctx)?, None),
            Some(Body::Html(source)) => (t.render_source("html.html", source, ctx)?, None),
            Some(Body::Custom { html, text }) => {
                let html = self.with_footer(t.render_source("custom_email.html", html, ctx)?, ctx)?;
                let text = match text {
                    Some(source) => Some(t.render_source("custom_email.txt", source, ctx)?),
                    None => None,
                };
                (html, text)
            }
            Some(Body::Stored(name)) => {
                let (html_body, text_body) = self.stored(name).await?;
                let label = format!("{name}.html");
                let html = self.with_footer(t.render_source(&label, &html_body, ctx)?, ctx)?;
                let text = match text_body {
                    Some(source) => Some(t.render_source(&format!("{name}.txt"), &source, ctx)?),
                    None => None,
                };
                (html, text)
            }
        };
        let text = match (text_template, stored_text) {
            (Some(name), _) => t.render(name, ctx)?,
            (None, Some(text)) => text,
            (None, None) => templates::text_from_html(&html),
        };
        Ok((html, text))
    }

    fn with_footer(&self, html: String, ctx: &Value) -> Result<String, RenderError> {
        let s = &self.0.settings;
        if !s.email_footer_enabled {
            return Ok(html);
        }
        let footer = match &s.email_footer_template {
            Some(name) => self.0.templates.render(name, ctx)?,
            None => templates::footer_from_text(&s.email_footer),
        };
        Ok(templates::insert_footer(&html, &footer))
    }

    /// An enabled `nets_email_template` by name: (html, text).
    async fn stored(&self, name: &str) -> Result<(String, Option<String>), RenderError> {
        let not_found = |detail: String| RenderError { reason: Reason::TemplateNotFound, detail };
        let Some(db) = &self.0.db else {
            return Err(not_found(format!(
                "{name} (stored templates need a database: Mailer::builder(..).database(db))"
            )));
        };
        let row: Result<Option<(String, Option<String>)>, sqlx::Error> = match db {
            Db::Sqlite(pool) => {
                sqlx::query_as("SELECT html_body, text_body FROM nets_email_template WHERE name = ?1 AND enabled")
                    .bind(name)
                    .fetch_optional(pool)
                    .await
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                sqlx::query_as("SELECT html_body, text_body FROM nets_email_template WHERE name = $1 AND enabled")
                    .bind(name)
                    .fetch_optional(pool)
                    .await
            }
        };
        match row {
            Ok(Some(found)) => Ok(found),
            Ok(None) => Err(not_found(name.to_owned())),
            Err(e) => Err(not_found(format!("{name} ({e})"))),
        }
    }

    /// One message to one recipient.
    fn message(
        &self,
        to: &str,
        subject: &str,
        html: &str,
        text: &str,
        attachments: &[lettre::message::SinglePart],
    ) -> Result<Message, String> {
        let from: Mailbox = self
            .0
            .settings
            .default_from_email
            .parse()
            .map_err(|e| format!("DEFAULT_FROM_EMAIL {:?}: {e}", self.0.settings.default_from_email))?;
        let to: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
        let alternative = MultiPart::alternative_plain_html(text.to_owned(), html.to_owned());
        let builder = Message::builder().from(from).to(to).subject(subject);
        let message = if attachments.is_empty() {
            builder.multipart(alternative)
        } else {
            let mixed =
                attachments.iter().fold(MultiPart::mixed().multipart(alternative), |m, a| m.singlepart(a.clone()));
            builder.multipart(mixed)
        };
        message.map_err(|e| e.to_string())
    }

    async fn enqueue(
        &self,
        subject: &str,
        recipients: &[String],
        html: &str,
        text: &str,
        custom_email_id: Option<i64>,
        explanation: &str,
    ) -> Outcome {
        let (db, jobs) = match (&self.0.db, &self.0.jobs) {
            (Some(db), Some(jobs)) => (db, jobs),
            (None, _) => return Outcome::failed(Reason::EmailNotSent, &MailError::NoDatabase.to_string()),
            (_, None) => return Outcome::failed(Reason::EmailNotSent, &MailError::NoJobs.to_string()),
        };
        let from = &self.0.settings.default_from_email;
        let mut ids = Vec::with_capacity(recipients.len());
        for to in recipients {
            let queued = async {
                let id = queue::insert(db, to, from, subject, html, Some(text), custom_email_id).await?;
                if let Err(e) = jobs.enqueue(SendEmail { notification_id: id }).await {
                    // Leave the row where `Mailer::retry` (`email retry`) finds it.
                    queue::mark_failed(db, id, &format!("not queued: {e}")).await?;
                    return Err(MailError::from(e));
                }
                Ok::<i64, MailError>(id)
            };
            match queued.await {
                Ok(id) => ids.push(id),
                Err(e) => {
                    tracing::error!(error = %e, "e-mail not queued");
                    let mut outcome = Outcome::failed(Reason::EmailNotSent, &join(&e.to_string(), explanation));
                    outcome.notification_ids = ids;
                    return outcome;
                }
            }
        }
        let mut outcome = Outcome::new(true, Reason::EmailInQueue, join(Reason::EmailInQueue.text(), explanation));
        outcome.notification_ids = ids;
        outcome
    }

    /// Sends the queued row `id` (what the [`SendEmail`] job runs). Idempotent: a row
    /// already sent is left alone.
    pub async fn deliver_queued(&self, id: i64) -> Result<Delivery, DeliverError> {
        let db = self.db().map_err(|e| DeliverError::Retry(e.to_string()))?;
        let lease = self.0.settings.email_timeout.saturating_add(5);
        let row = match queue::claim(db, id, lease).await.map_err(|e| DeliverError::Retry(e.to_string()))? {
            queue::Claim::Ready(row) => row,
            queue::Claim::AlreadySent => return Ok(Delivery::AlreadySent),
            queue::Claim::Missing => return Ok(Delivery::Missing),
            queue::Claim::Busy => {
                return Err(DeliverError::Retry(format!("e-mail {id} is being sent by another worker")));
            }
        };
        let recipients: Vec<String> = serde_json::from_str(&row.recipients).unwrap_or_default();
        let result = match recipients.as_slice() {
            [to] => {
                let text = row.txt_body.clone().unwrap_or_else(|| templates::text_from_html(&row.html_body));
                match self.message_from(&row.from_email, to, &row.subject, &row.html_body, &text) {
                    Ok(message) => self.0.transport.send(message).await.map_err(DeliverError::Retry),
                    Err(e) => Err(DeliverError::Permanent(e)),
                }
            }
            _ => Err(DeliverError::Permanent(format!("row {id} must have exactly one recipient: {}", row.recipients))),
        };
        match result {
            Ok(()) => {
                queue::mark_sent(db, id).await.map_err(|e| DeliverError::Retry(e.to_string()))?;
                if let Some(custom) = row.custom_email_id {
                    bulk::refresh_counts(db, custom).await.map_err(|e| DeliverError::Retry(e.to_string()))?;
                }
                Ok(Delivery::Sent)
            }
            Err(e) => {
                let message = e.to_string();
                queue::mark_failed(db, id, &message).await.map_err(|e| DeliverError::Retry(e.to_string()))?;
                if let Some(custom) = row.custom_email_id {
                    let _ = bulk::refresh_counts(db, custom).await;
                }
                Err(e)
            }
        }
    }

    fn message_from(&self, from: &str, to: &str, subject: &str, html: &str, text: &str) -> Result<Message, String> {
        let from: Mailbox = from.parse().map_err(|e| format!("from {from:?}: {e}"))?;
        let to: Mailbox = to.parse().map_err(|e| format!("recipient {to:?}: {e}"))?;
        Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(text.to_owned(), html.to_owned()))
            .map_err(|e| e.to_string())
    }

    /// Queued e-mails matching `filter`, oldest first (at most `limit`).
    pub async fn queue(&self, filter: QueueFilter, limit: i64) -> Result<Vec<QueuedEmail>, MailError> {
        Ok(queue::list(self.db()?, filter, self.0.settings.jobs_max_attempts.max(1), limit).await?)
    }

    /// Sends a failed (or dead) e-mail again: back to `queued`, attempts reset, a new
    /// job. `false` when the row is not failed.
    pub async fn retry(&self, id: i64) -> Result<bool, MailError> {
        let db = self.db()?;
        let jobs = self.0.jobs.as_ref().ok_or(MailError::NoJobs)?;
        if !queue::requeue(db, id).await? {
            return Ok(false);
        }
        jobs.enqueue(SendEmail { notification_id: id }).await?;
        Ok(true)
    }

    /// Status, attempts and last error of a queued e-mail.
    pub async fn queue_status(&self, id: i64) -> Result<Option<(String, i32, Option<String>)>, MailError> {
        Ok(queue::status(self.db()?, id).await?)
    }
}

/// What [`Mailer::deliver_queued`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Sent now.
    Sent,
    /// Sent before: nothing done.
    AlreadySent,
    /// No such row: nothing done.
    Missing,
}

/// Why a queued e-mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// Worth another attempt (the server is down, the database busy).
    #[error("{0}")]
    Retry(String),
    /// Will never work (a malformed address in the row).
    #[error("{0}")]
    Permanent(String),
}
