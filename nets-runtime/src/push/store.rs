//! The rows behind push: `nets_push_notification` (one message to one user) and
//! `nets_push_notification_device` (its delivery to one device). The delivery row, not
//! the job, is the truth: it is written before anything is sent, claimed before each
//! send, and a row already `sent` is never sent again.
//!
//! Statements are static text with bound values; where SQLite and PostgreSQL differ
//! (JSON arrays) each has its own text.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::types::Json;

use super::Notification;
use crate::db::{Db, DbError, on_pool};

/// A stored notification, as the fan-out reads it back.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) user_id: i64,
    pub(crate) notification: Notification,
}

/// One delivery and the device's current token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Delivery {
    pub(crate) id: i64,
    pub(crate) device_id: i64,
    pub(crate) status: String,
    pub(crate) message_id: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) firebase_token: Option<String>,
    pub(crate) active: bool,
}

/// The devices a user's notification goes to: active, with a non-empty token, one per
/// distinct token (the most recently created device holding it).
pub(crate) async fn targets(db: &Db, user_id: i64) -> Result<Vec<i64>, DbError> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT max(id) FROM nets_user_device WHERE user_id = $1 AND active AND firebase_token IS NOT NULL \
         AND firebase_token <> '' GROUP BY firebase_token ORDER BY 1"
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?))
}

/// Whether the user exists.
pub(crate) async fn user_exists(db: &Db, user_id: i64) -> Result<bool, DbError> {
    let found: Option<i64> = on_pool!(db, |pool| sqlx::query_scalar("SELECT id FROM nets_user WHERE id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await?);
    Ok(found.is_some())
}

/// Options stored beside title, body, data and channel.
fn options_of(n: &Notification) -> Value {
    let mut options = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            options.insert(key.to_owned(), v);
        }
    };
    put("image", n.image.clone().map(Value::from));
    put("sound", n.sound.clone().map(Value::from));
    put("badge", n.badge.map(Value::from));
    put("collapse_key", n.collapse_key.clone().map(Value::from));
    put("ttl_seconds", n.ttl_seconds.map(Value::from));
    Value::Object(options)
}

/// Writes the notification and one `queued` delivery per device, in one transaction:
/// nothing is sent before all of it is stored.
pub(crate) async fn insert(db: &Db, user_id: i64, n: &Notification, devices: &[i64]) -> Result<i64, DbError> {
    let now = Utc::now();
    let status = if devices.is_empty() { "failed" } else { "queued" };
    let last_error = devices.is_empty().then_some(NO_DEVICE);
    let id = on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO nets_push_notification (user_id, title, message, data, channel, options, status, last_error, \
             created, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(user_id)
        .bind(&n.title)
        .bind(&n.body)
        .bind(Json(Value::Object(n.data.clone())))
        .bind(n.channel.as_deref())
        .bind(Json(options_of(n)))
        .bind(status)
        .bind(last_error)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for device in devices {
            sqlx::query(
                "INSERT INTO nets_push_notification_device (notification_id, device_id, created, updated) \
                 VALUES ($1, $2, $3, $3)",
            )
            .bind(id)
            .bind(device)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        id
    });
    Ok(id)
}

/// What `last_error` says when a user has nowhere to receive a push.
pub(crate) const NO_DEVICE: &str = "no_device: the user has no active device with a push token";

type StoredRow = (i64, String, Option<String>, Json<Map<String, Value>>, Option<String>, Json<Map<String, Value>>);

/// The notification `id`, or `None` when it was deleted.
pub(crate) async fn load(db: &Db, id: i64) -> Result<Option<Stored>, DbError> {
    let row: Option<StoredRow> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT user_id, title, message, data, channel, options FROM nets_push_notification WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await?);
    Ok(row.map(|(user_id, title, body, Json(data), channel, Json(options))| {
        let text = |key: &str| options.get(key).and_then(Value::as_str).map(str::to_owned);
        let notification = Notification {
            title,
            body: body.unwrap_or_default(),
            data,
            channel,
            image: text("image"),
            sound: text("sound"),
            badge: options.get("badge").and_then(Value::as_u64).and_then(|b| u32::try_from(b).ok()),
            collapse_key: text("collapse_key"),
            ttl_seconds: options.get("ttl_seconds").and_then(Value::as_u64),
        };
        Stored { user_id, notification }
    }))
}

/// Every delivery of notification `id`, with its device's current token.
pub(crate) async fn deliveries(db: &Db, id: i64) -> Result<Vec<Delivery>, DbError> {
    Ok(on_pool!(db, |pool| sqlx::query_as(
        "SELECT pd.id, pd.device_id, pd.status, pd.message_id, pd.error, d.firebase_token, d.active \
         FROM nets_push_notification_device pd JOIN nets_user_device d ON d.id = pd.device_id \
         WHERE pd.notification_id = $1 ORDER BY pd.id"
    )
    .bind(id)
    .fetch_all(pool)
    .await?))
}

/// Marks the delivery `sending` for this worker (one more attempt) unless it is sent or
/// dead, or another worker claimed it less than `lease` ago. `true` when claimed.
pub(crate) async fn claim(db: &Db, id: i64, lease: std::time::Duration) -> Result<bool, DbError> {
    let now = Utc::now();
    let expired = now - chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
    let done = on_pool!(db, |pool| sqlx::query(
        "UPDATE nets_push_notification_device SET status = 'sending', attempts = attempts + 1, updated = $2 \
         WHERE id = $1 AND (status IN ('queued', 'failed') OR (status = 'sending' AND updated < $3))"
    )
    .bind(id)
    .bind(now)
    .bind(expired)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Records a send FCM accepted.
pub(crate) async fn mark_sent(db: &Db, id: i64, message_id: &str) -> Result<(), DbError> {
    let now = Utc::now();
    on_pool!(db, |pool| sqlx::query(
        "UPDATE nets_push_notification_device SET status = 'sent', message_id = $2, error = NULL, sent_at = $3, \
         updated = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(message_id)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(())
}

/// Records a failure: `failed` (tried again) or `dead` (left alone). Never over `sent`.
pub(crate) async fn mark_failed(db: &Db, id: i64, error: &str, dead: bool) -> Result<(), DbError> {
    let status = if dead { "dead" } else { "failed" };
    on_pool!(db, |pool| sqlx::query(
        "UPDATE nets_push_notification_device SET status = $2, error = $3, updated = $4 \
         WHERE id = $1 AND status <> 'sent'"
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .bind(Utc::now())
    .execute(pool)
    .await?
    .rows_affected());
    Ok(())
}

/// Clears a dead token from its device and turns the device off, keeping the row, its
/// history and codes. Only if the device still holds that token: a token refreshed
/// meanwhile (the app registered a new one) is left alone.
pub(crate) async fn retire_token(db: &Db, device_id: i64, token: &str, reason: &str) -> Result<bool, DbError> {
    let now = Utc::now();
    let done = on_pool!(db, |pool| sqlx::query(
        "UPDATE nets_user_device SET firebase_token = NULL, active = FALSE, inactive_reason = $3, \
         inactive_since = $4, updated = $4 WHERE id = $1 AND firebase_token = $2"
    )
    .bind(device_id)
    .bind(token)
    .bind(reason)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(done == 1)
}

/// Sets the notification's overall status from its deliveries: `sent` (all), `partial`
/// (some sent, the rest dead), `failed` (none sent, none pending), `sending` (some
/// pending). Counts one more attempt.
pub(crate) async fn finish(db: &Db, id: i64, statuses: &[&str], last_error: Option<&str>) -> Result<(), DbError> {
    let sent = statuses.iter().filter(|s| **s == "sent").count();
    let pending = statuses.iter().any(|s| matches!(*s, "queued" | "sending" | "failed"));
    let status = match (sent, pending) {
        _ if statuses.is_empty() => "failed",
        (_, true) => "sending",
        (n, false) if n == statuses.len() => "sent",
        (0, false) => "failed",
        _ => "partial",
    };
    let last_error = if statuses.is_empty() { Some(NO_DEVICE) } else { last_error };
    let now = Utc::now();
    let sent_at: Option<DateTime<Utc>> = (sent > 0).then_some(now);
    on_pool!(db, |pool| sqlx::query(
        "UPDATE nets_push_notification SET status = $2, attempts = attempts + 1, last_error = $3, \
         sent_at = COALESCE(sent_at, $4), updated = $5 WHERE id = $1"
    )
    .bind(id)
    .bind(status)
    .bind(last_error)
    .bind(sent_at)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected());
    Ok(())
}

/// Puts a `failed` or `dead` delivery back to `queued`, attempts reset; its notification
/// id, or `None` when the delivery is not failed.
pub(crate) async fn requeue(db: &Db, id: i64) -> Result<Option<i64>, DbError> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "UPDATE nets_push_notification_device SET status = 'queued', attempts = 0, updated = $2 \
         WHERE id = $1 AND status IN ('failed', 'dead') RETURNING notification_id"
    )
    .bind(id)
    .bind(Utc::now())
    .fetch_optional(pool)
    .await?))
}
