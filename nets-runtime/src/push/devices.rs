//! The caller's device push token: registered or refreshed by the app whenever the
//! phone rotates it (the original could only set it through `/login/`).

use chrono::Utc;
use uuid::Uuid;

use crate::ApiError;
use crate::db::{Db, DbError, on_pool};

/// Sets `token` on the caller's device and makes the device active again.
///
/// The device is `device_uuid` (it must be the caller's: else a 400 naming it), else the
/// caller's device already holding the token, else a new device. A token names one app
/// install, so it is cleared from every other device row that holds it, the caller's or
/// anyone's (an install that changed accounts must not keep receiving the previous
/// account's notifications). Returns the device's uuid.
pub(crate) async fn register(
    db: &Db,
    user: i64,
    token: &str,
    device_uuid: Option<Uuid>,
    name: Option<&str>,
) -> Result<Uuid, ApiError> {
    register_rows(db, user, token, device_uuid, name).await?.ok_or_else(|| {
        ApiError::field("device_uuid", "no device of yours has this uuid (log in from the device first)")
    })
}

async fn register_rows(
    db: &Db,
    user: i64,
    token: &str,
    device_uuid: Option<Uuid>,
    name: Option<&str>,
) -> Result<Option<Uuid>, DbError> {
    let now = Utc::now();
    let uuid = on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        let found: Option<(i64, Uuid)> = match device_uuid {
            Some(uuid) => {
                sqlx::query_as("SELECT id, uuid FROM nets_user_device WHERE uuid = $1 AND user_id = $2")
                    .bind(uuid)
                    .bind(user)
                    .fetch_optional(&mut *tx)
                    .await?
            }
            None => {
                sqlx::query_as(
                    "SELECT id, uuid FROM nets_user_device WHERE user_id = $1 AND firebase_token = $2 \
                     ORDER BY id DESC LIMIT 1",
                )
                .bind(user)
                .bind(token)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let (id, uuid) = match (found, device_uuid) {
            (Some(found), _) => found,
            (None, Some(_)) => return Ok(None),
            (None, None) => {
                let uuid = Uuid::new_v4();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO nets_user_device (user_id, uuid, name, created, updated) \
                     VALUES ($1, $2, $3, $4, $4) RETURNING id",
                )
                .bind(user)
                .bind(uuid)
                .bind(name.unwrap_or(""))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                (id, uuid)
            }
        };
        sqlx::query(crate::db::RELEASE_PUSH_TOKEN).bind(token).bind(id).bind(now).execute(&mut *tx).await?;
        sqlx::query(
            "UPDATE nets_user_device SET firebase_token = $2, active = TRUE, inactive_reason = NULL, \
             inactive_since = NULL, name = COALESCE($3, name), updated = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(token)
        .bind(name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        uuid
    });
    Ok(Some(uuid))
}
