//! The `device` object of `/login/` (§7.1.1 of the original): find or create the
//! user's device, de-duplicated by `uuid` or `firebase_token`.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::input;
use crate::ApiError;
use crate::db::Db;
use crate::oauth::on_pool;

/// The device keys copied from the request. `device_id` (a hardware id the original
/// documented but crashed on) is accepted and not stored: `nets_user_device` has no
/// column for it.
const KEYS: [&str; 6] = ["name", "os", "os_version", "app_version", "device_type", "firebase_token"];
const MAX_VALUE: usize = 4096;

/// The device's row id and uuid: found by `uuid` (it must be this user's), else by
/// `firebase_token`, else created. Its fields are updated from the request.
pub(super) async fn resolve(db: &Db, user: i64, device: &Map<String, Value>) -> Result<(i64, Uuid), ApiError> {
    let mut values: Vec<Option<String>> = Vec::with_capacity(KEYS.len());
    for key in KEYS {
        let value = input::text(device, key)?.map(|v| v.into_owned());
        if value.as_ref().is_some_and(|v| v.len() > MAX_VALUE) {
            return Err(ApiError::field(format!("device.{key}"), "too long"));
        }
        values.push(value);
    }
    let uuid = input::uuid(device, "uuid")?;
    let existing: Option<(i64, Uuid)> = match (uuid, &values[5]) {
        (Some(uuid), _) => {
            let found = on_pool!(db, |pool| sqlx::query_as(
                "SELECT id, uuid FROM nets_user_device WHERE uuid = $1 AND user_id = $2"
            )
            .bind(uuid)
            .bind(user)
            .fetch_optional(pool)
            .await)
            .map_err(ApiError::internal)?;
            Some(found.ok_or_else(|| ApiError::bad_request("Invalid device uuid"))?)
        }
        (None, Some(token)) if !token.is_empty() => on_pool!(db, |pool| {
            sqlx::query_as(
            "SELECT id, uuid FROM nets_user_device WHERE user_id = $1 AND firebase_token = $2 ORDER BY id DESC LIMIT 1"
        )
        .bind(user)
        .bind(token)
        .fetch_optional(pool)
        .await
        })
        .map_err(ApiError::internal)?,
        _ => None,
    };
    let now = chrono::Utc::now();
    match existing {
        Some((id, uuid)) => {
            // COALESCE: a key the request leaves out keeps its value.
            on_pool!(db, |pool| sqlx::query(
                "UPDATE nets_user_device SET name = COALESCE($1, name), os = COALESCE($2, os), \
                 os_version = COALESCE($3, os_version), app_version = COALESCE($4, app_version), \
                 device_type = COALESCE($5, device_type), firebase_token = COALESCE($6, firebase_token), \
                 updated = $7 WHERE id = $8"
            )
            .bind(&values[0])
            .bind(&values[1])
            .bind(&values[2])
            .bind(&values[3])
            .bind(&values[4])
            .bind(&values[5])
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
            .map_err(ApiError::internal)?;
            Ok((id, uuid))
        }
        None => {
            let uuid = Uuid::new_v4();
            let id: i64 = on_pool!(db, |pool| sqlx::query_scalar(
                "INSERT INTO nets_user_device (user_id, uuid, name, os, os_version, app_version, device_type, \
                 firebase_token, created, updated) VALUES ($1, $2, COALESCE($3, ''), $4, $5, $6, $7, $8, $9, $9) \
                 RETURNING id"
            )
            .bind(user)
            .bind(uuid)
            .bind(&values[0])
            .bind(&values[1])
            .bind(&values[2])
            .bind(&values[3])
            .bind(&values[4])
            .bind(&values[5])
            .bind(now)
            .fetch_one(pool)
            .await)
            .map_err(ApiError::internal)?;
            Ok((id, uuid))
        }
    }
}

/// Deletes the user's device `uuid` (its codes go with it); `false` when there is none.
pub(super) async fn delete(db: &Db, user: i64, uuid: Uuid) -> Result<bool, ApiError> {
    let done = on_pool!(db, |pool| sqlx::query("DELETE FROM nets_user_device WHERE uuid = $1 AND user_id = $2")
        .bind(uuid)
        .bind(user)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
    .map_err(ApiError::internal)?;
    Ok(done > 0)
}
