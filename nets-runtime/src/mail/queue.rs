//! The outgoing queue, `nets_email_notification`: one row per message (one recipient),
//! its status (`queued` → `sending` → `sent` | `failed`), the number of attempts and the
//! last error. The row, not the job, is the truth: a job for a row already `sent` does
//! nothing, so a job run twice (a worker killed after sending, before acknowledging)
//! never sends twice once the send was recorded.
//!
//! Statements are static text per backend; values are bound.

use crate::db::on_pool;
use crate::db::{Db, DbError};
use crate::jobs::QueueFilter;

/// What a worker got when it claimed a row.
pub(crate) enum Claim {
    /// The row is this worker's to send now.
    Ready(Row),
    /// Already sent: nothing to do.
    AlreadySent,
    /// Another worker holds a fresh claim on it.
    Busy,
    /// No such row (deleted): nothing to do.
    Missing,
}

/// A queued message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Row {
    pub(crate) recipients: String,
    pub(crate) from_email: String,
    pub(crate) subject: String,
    pub(crate) html_body: String,
    pub(crate) txt_body: Option<String>,
    pub(crate) custom_email_id: Option<i64>,
}

/// A row as the operations command lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct QueuedEmail {
    /// Row id.
    pub id: i64,
    /// JSON array of addresses.
    pub recipients: String,
    /// Subject.
    pub subject: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was queued (ISO-8601).
    pub created: String,
}

/// Inserts one `queued` row; returns its id.
pub(crate) async fn insert(
    db: &Db,
    recipient: &str,
    from: &str,
    subject: &str,
    html: &str,
    text: Option<&str>,
    custom_email_id: Option<i64>,
) -> Result<i64, DbError> {
    let recipients = serde_json::to_string(&[recipient]).unwrap_or_else(|_| "[]".into());
    let id = on_pool!(db, |pool|
        sqlite: sqlx::query_scalar(
            "INSERT INTO nets_email_notification (recipients, from_email, subject, html_body, txt_body, custom_email_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )
        .bind(&recipients).bind(from).bind(subject).bind(html).bind(text).bind(custom_email_id)
        .fetch_one(pool).await?,
        postgres: sqlx::query_scalar(
            "INSERT INTO nets_email_notification (recipients, from_email, subject, html_body, txt_body, custom_email_id) \
             VALUES ($1::jsonb, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&recipients).bind(from).bind(subject).bind(html).bind(text).bind(custom_email_id)
        .fetch_one(pool).await?
    );
    Ok(id)
}

/// Marks the row `sending` for this worker (one more attempt) unless it is sent, or
/// another worker claimed it less than `lease_secs` ago.
pub(crate) async fn claim(db: &Db, id: i64, lease_secs: u64) -> Result<Claim, DbError> {
    let row: Option<Row> = on_pool!(db, |pool|
        sqlite: sqlx::query_as(
            "UPDATE nets_email_notification SET status = 'sending', attempts = attempts + 1, \
               updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE id = ?1 AND (status IN ('queued', 'failed') \
               OR (status = 'sending' AND updated < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?2))) \
             RETURNING recipients, from_email, subject, html_body, txt_body, custom_email_id",
        )
        .bind(id).bind(format!("-{lease_secs} seconds"))
        .fetch_optional(pool).await?,
        postgres: sqlx::query_as(
            "UPDATE nets_email_notification SET status = 'sending', attempts = attempts + 1, updated = now() \
             WHERE id = $1 AND (status IN ('queued', 'failed') \
               OR (status = 'sending' AND updated < now() - make_interval(secs => $2))) \
             RETURNING recipients::text, from_email, subject, html_body, txt_body, custom_email_id",
        )
        .bind(id).bind(lease_secs as f64)
        .fetch_optional(pool).await?
    );
    if let Some(row) = row {
        return Ok(Claim::Ready(row));
    }
    let status: Option<String> = on_pool!(db, |pool|
        sqlite: sqlx::query_scalar("SELECT status FROM nets_email_notification WHERE id = ?1").bind(id).fetch_optional(pool).await?,
        postgres: sqlx::query_scalar("SELECT status FROM nets_email_notification WHERE id = $1").bind(id).fetch_optional(pool).await?
    );
    Ok(match status.as_deref() {
        None => Claim::Missing,
        Some("sent") => Claim::AlreadySent,
        Some(_) => Claim::Busy,
    })
}

/// Records a successful send.
pub(crate) async fn mark_sent(db: &Db, id: i64) -> Result<(), DbError> {
    on_pool!(db, |pool|
        sqlite: sqlx::query(
            "UPDATE nets_email_notification SET status = 'sent', last_error = NULL, \
               sent_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
        ).bind(id).execute(pool).await?.rows_affected(),
        postgres: sqlx::query(
            "UPDATE nets_email_notification SET status = 'sent', last_error = NULL, sent_at = now(), updated = now() WHERE id = $1",
        ).bind(id).execute(pool).await?.rows_affected()
    );
    Ok(())
}

/// Records a failed attempt.
pub(crate) async fn mark_failed(db: &Db, id: i64, error: &str) -> Result<(), DbError> {
    on_pool!(db, |pool|
        sqlite: sqlx::query(
            "UPDATE nets_email_notification SET status = 'failed', last_error = ?2, \
               updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1 AND status <> 'sent'",
        ).bind(id).bind(error).execute(pool).await?.rows_affected(),
        postgres: sqlx::query(
            "UPDATE nets_email_notification SET status = 'failed', last_error = $2, updated = now() WHERE id = $1 AND status <> 'sent'",
        ).bind(id).bind(error).execute(pool).await?.rows_affected()
    );
    Ok(())
}

/// Rows matching `filter`, oldest first, at most `limit`.
pub(crate) async fn list(
    db: &Db,
    filter: QueueFilter,
    max_attempts: u32,
    limit: i64,
) -> Result<Vec<QueuedEmail>, DbError> {
    // (status, min attempts, max attempts) per filter: static SQL, bound values.
    let (a, b, min, max): (&str, &str, i64, i64) = match filter {
        QueueFilter::Queued => ("queued", "sending", 0, i64::MAX),
        QueueFilter::Failed => ("failed", "failed", 0, i64::from(max_attempts) - 1),
        QueueFilter::Dead => ("failed", "failed", i64::from(max_attempts), i64::MAX),
        QueueFilter::Sent => ("sent", "sent", 0, i64::MAX),
    };
    let rows = on_pool!(db, |pool|
        sqlite: sqlx::query_as(
            "SELECT id, recipients, subject, status, attempts, last_error, created FROM nets_email_notification \
             WHERE status IN (?1, ?2) AND attempts BETWEEN ?3 AND ?4 ORDER BY id LIMIT ?5",
        ).bind(a).bind(b).bind(min).bind(max).bind(limit).fetch_all(pool).await?,
        postgres: sqlx::query_as(
            "SELECT id, recipients::text AS recipients, subject, status, attempts, last_error, \
               to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS created \
             FROM nets_email_notification WHERE status IN ($1, $2) AND attempts BETWEEN $3 AND $4 ORDER BY id LIMIT $5",
        ).bind(a).bind(b).bind(min).bind(max).bind(limit).fetch_all(pool).await?
    );
    Ok(rows)
}

/// Puts a `failed` row back to `queued` with its attempts reset; false when the row is
/// not failed.
pub(crate) async fn requeue(db: &Db, id: i64) -> Result<bool, DbError> {
    let done = on_pool!(db, |pool|
        sqlite: sqlx::query(
            "UPDATE nets_email_notification SET status = 'queued', attempts = 0, \
               updated = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1 AND status = 'failed'",
        ).bind(id).execute(pool).await?.rows_affected(),
        postgres: sqlx::query(
            "UPDATE nets_email_notification SET status = 'queued', attempts = 0, updated = now() WHERE id = $1 AND status = 'failed'",
        ).bind(id).execute(pool).await?.rows_affected()
    );
    Ok(done == 1)
}

/// The status and attempts of one row.
pub(crate) async fn status(db: &Db, id: i64) -> Result<Option<(String, i32, Option<String>)>, DbError> {
    Ok(on_pool!(db, |pool|
        sqlite: sqlx::query_as("SELECT status, attempts, last_error FROM nets_email_notification WHERE id = ?1").bind(id).fetch_optional(pool).await?,
        postgres: sqlx::query_as("SELECT status, attempts, last_error FROM nets_email_notification WHERE id = $1").bind(id).fetch_optional(pool).await?
    ))
}
