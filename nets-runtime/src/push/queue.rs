//! The deliveries as the operations commands see them (`push list`, `push retry`).

use serde::Serialize;

use crate::db::{Db, DbError, on_pool};
use crate::jobs::QueueFilter;

/// One delivery (a notification to one device), as `push list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct QueuedPush {
    /// The delivery's id (`push retry` takes it).
    pub id: i64,
    /// The notification's id.
    pub notification_id: i64,
    /// The user it is for.
    pub user_id: i64,
    /// The device it goes to.
    pub device_id: i64,
    /// Its title.
    pub title: String,
    /// `queued`, `sending`, `sent`, `failed` or `dead`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// The FCM message name once sent.
    pub message_id: Option<String>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was queued (ISO-8601, UTC).
    pub created: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    notification_id: i64,
    user_id: i64,
    device_id: i64,
    title: String,
    status: String,
    attempts: i32,
    message_id: Option<String>,
    error: Option<String>,
    created: chrono::DateTime<chrono::Utc>,
}

/// Deliveries matching `filter`, oldest first, at most `limit`.
pub(crate) async fn list(
    db: &Db,
    filter: QueueFilter,
    max_attempts: u32,
    limit: i64,
) -> Result<Vec<QueuedPush>, DbError> {
    let max = i64::from(max_attempts);
    // (statuses, min attempts, max attempts, or-status): static SQL, bound values.
    let (a, b, min, most, dead): (&str, &str, i64, i64, &str) = match filter {
        QueueFilter::Queued => ("queued", "sending", 0, i64::MAX, ""),
        QueueFilter::Failed => ("failed", "failed", 0, max - 1, ""),
        QueueFilter::Dead => ("failed", "failed", max, i64::MAX, "dead"),
        QueueFilter::Sent => ("sent", "sent", 0, i64::MAX, ""),
    };
    let rows: Vec<Row> = on_pool!(db, |pool| {
        sqlx::query_as(
        "SELECT pd.id, pd.notification_id, n.user_id, pd.device_id, n.title, pd.status, pd.attempts, pd.message_id, \
         pd.error, pd.created FROM nets_push_notification_device pd \
         JOIN nets_push_notification n ON n.id = pd.notification_id \
         WHERE (pd.status IN ($1, $2) AND pd.attempts BETWEEN $3 AND $4) OR pd.status = $5 ORDER BY pd.id LIMIT $6"
    )
    .bind(a)
    .bind(b)
    .bind(min)
    .bind(most)
    .bind(dead)
    .bind(limit)
    .fetch_all(pool)
    .await?
    });
    Ok(rows
        .into_iter()
        .map(|r| QueuedPush {
            id: r.id,
            notification_id: r.notification_id,
            user_id: r.user_id,
            device_id: r.device_id,
            title: r.title,
            status: r.status,
            attempts: r.attempts,
            message_id: r.message_id,
            last_error: r.error,
            created: r.created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
        .collect())
}
