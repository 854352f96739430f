//! Bulk sends: a `nets_custom_email` (a newsletter) to its recipients, one queued message
//! each, with progress reported while queueing and counts kept on the row while workers
//! send.

use serde::Serialize;

use super::{MailError, Mailer, Reason};
use crate::db::{Db, DbError};

/// How far a bulk send got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BulkProgress {
    /// Recipients on the custom e-mail.
    pub total: usize,
    /// Recipients handled so far (queued or dropped).
    pub processed: usize,
    /// Messages queued.
    pub queued: usize,
    /// Recipients dropped (invalid or excluded addresses).
    pub dropped: usize,
}

/// Delivery counts of a custom e-mail, from its queued messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct BulkStatus {
    /// Messages queued for it.
    pub total: i64,
    /// Sent.
    pub sent: i64,
    /// Failed so far (retried until dead).
    pub failed: i64,
}

/// How many recipients are queued between two progress reports.
const PROGRESS_EVERY: usize = 100;

impl Mailer {
    /// Queues the `nets_custom_email` `id` to each of its recipients (context: `email`,
    /// the recipient), calling `progress` every 100 recipients and at the end.
    ///
    /// Fails when the row does not exist, or when the database or the job queue fails
    /// midway (the rows queued until then stay queued).
    pub async fn queue_custom_email(
        &self,
        id: i64,
        mut progress: impl FnMut(BulkProgress),
    ) -> Result<BulkProgress, MailError> {
        let db = self.db()?;
        let row: Option<(String, String, String, Option<String>)> = match db {
            Db::Sqlite(pool) => {
                sqlx::query_as("SELECT subject, recipients, html_body, txt_body FROM nets_custom_email WHERE id = ?1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?
            }
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT subject, recipients::text, html_body, txt_body FROM nets_custom_email WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(pool)
                .await?
            }
        };
        let Some((subject, recipients, html, text)) = row else {
            return Err(MailError::Config(format!("nets_custom_email {id} does not exist")));
        };
        let recipients: Vec<String> = serde_json::from_str(&recipients).map_err(|e| {
            MailError::Config(format!("nets_custom_email {id}: recipients is not a list of strings: {e}"))
        })?;
        let mut state = BulkProgress { total: recipients.len(), ..BulkProgress::default() };
        progress(state);
        for to in &recipients {
            let outcome = self
                .email(subject.clone())
                .to(to.clone())
                .custom_email(id, html.clone(), text.clone())
                .context(serde_json::json!({ "email": to }))
                .force(true)
                .send()
                .await;
            match outcome.reason {
                Reason::EmailInQueue => state.queued += 1,
                Reason::EmptyEmail => state.dropped += 1,
                _ => return Err(MailError::Config(format!("nets_custom_email {id} to {to}: {}", outcome.description))),
            }
            state.processed += 1;
            if state.processed.is_multiple_of(PROGRESS_EVERY) {
                progress(state);
            }
        }
        if !state.processed.is_multiple_of(PROGRESS_EVERY) {
            progress(state);
        }
        refresh_counts(db, id).await?;
        Ok(state)
    }

    /// Delivery counts of the custom e-mail `id`.
    pub async fn custom_email_status(&self, id: i64) -> Result<BulkStatus, MailError> {
        let db = self.db()?;
        let sql_sqlite = "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'sent') AS sent, \
            count(*) FILTER (WHERE status = 'failed') AS failed FROM nets_email_notification WHERE custom_email_id = ?1";
        #[cfg(feature = "postgres")]
        let sql_pg = "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'sent') AS sent, \
            count(*) FILTER (WHERE status = 'failed') AS failed FROM nets_email_notification WHERE custom_email_id = $1";
        Ok(match db {
            Db::Sqlite(pool) => sqlx::query_as(sql_sqlite).bind(id).fetch_one(pool).await?,
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => sqlx::query_as(sql_pg).bind(id).fetch_one(pool).await?,
        })
    }
}

/// Copies the delivery counts onto the custom e-mail row; `completed` once nothing is
/// waiting.
pub(crate) async fn refresh_counts(db: &Db, id: i64) -> Result<(), DbError> {
    match db {
        Db::Sqlite(pool) => {
            sqlx::query(
                "UPDATE nets_custom_email SET \
                   sent_count = (SELECT count(*) FROM nets_email_notification WHERE custom_email_id = ?1 AND status = 'sent'), \
                   failed_count = (SELECT count(*) FROM nets_email_notification WHERE custom_email_id = ?1 AND status = 'failed'), \
                   completed = NOT EXISTS (SELECT 1 FROM nets_email_notification WHERE custom_email_id = ?1 AND status IN ('queued', 'sending')), \
                   updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            )
            .bind(id)
            .execute(pool)
            .await?;
        }
        #[cfg(feature = "postgres")]
        Db::Postgres(pool) => {
            sqlx::query(
                "UPDATE nets_custom_email SET \
                   sent_count = (SELECT count(*) FROM nets_email_notification WHERE custom_email_id = $1 AND status = 'sent'), \
                   failed_count = (SELECT count(*) FROM nets_email_notification WHERE custom_email_id = $1 AND status = 'failed'), \
                   completed = NOT EXISTS (SELECT 1 FROM nets_email_notification WHERE custom_email_id = $1 AND status IN ('queued', 'sending')), \
                   updated = now() WHERE id = $1",
            )
            .bind(id)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}
