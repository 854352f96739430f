//! The caller's notifications as the app lists them (newest first, paginated) and marks
//! them read.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::types::Json;

use crate::db::{Db, DbError, on_pool};

/// One notification as the app sees it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct InboxItem {
    /// The notification's id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Text.
    #[sqlx(rename = "message")]
    pub body: Option<String>,
    /// Data sent with it.
    #[schema(value_type = Object)]
    pub data: Json<Map<String, Value>>,
    /// Android channel.
    pub channel: Option<String>,
    /// `queued`, `sending`, `sent`, `partial` or `failed`.
    pub status: String,
    /// When the user marked it read; `null` while unread.
    pub read_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created: DateTime<Utc>,
}

/// One page of the user's notifications, newest first, and how many there are.
pub(crate) async fn page(
    db: &Db,
    user: i64,
    unread_only: bool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<InboxItem>, i64), DbError> {
    let items = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, title, message, data, channel, status, read_at, created FROM nets_push_notification \
         WHERE user_id = $1 AND ($2 = FALSE OR read_at IS NULL) ORDER BY id DESC LIMIT $3 OFFSET $4"
    )
    .bind(user)
    .bind(unread_only)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?);
    let count = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT count(*) FROM nets_push_notification WHERE user_id = $1 AND ($2 = FALSE OR read_at IS NULL)"
    )
    .bind(user)
    .bind(unread_only)
    .fetch_one(pool)
    .await?);
    Ok((items, count))
}

/// Marks the user's notifications `ids` (or all of them) read; how many changed. Ids of
/// other users' notifications change nothing and are not told apart from unknown ids.
pub(crate) async fn mark_read(db: &Db, user: i64, ids: Option<&[i64]>) -> Result<u64, DbError> {
    let now = Utc::now();
    let done = match (db, ids) {
        (_, None) => on_pool!(db, |pool| sqlx::query(
            "UPDATE nets_push_notification SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL"
        )
        .bind(user)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()),
        // The id list travels as one JSON array value: static SQL, one bind, any length.
        (Db::Sqlite(pool), Some(ids)) => sqlx::query(
            "UPDATE nets_push_notification SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL \
             AND id IN (SELECT value FROM json_each($3))",
        )
        .bind(user)
        .bind(now)
        .bind(Json(ids))
        .execute(pool)
        .await?
        .rows_affected(),
        #[cfg(feature = "postgres")]
        (Db::Postgres(pool), Some(ids)) => sqlx::query(
            "UPDATE nets_push_notification SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL \
             AND id = ANY($3)",
        )
        .bind(user)
        .bind(now)
        .bind(ids)
        .execute(pool)
        .await?
        .rows_affected(),
    };
    Ok(done)
}
