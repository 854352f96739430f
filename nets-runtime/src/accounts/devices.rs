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

/// A `device` object read and checked, before anything is looked up or written.
#[derive(Debug, Clone)]
pub(crate) struct DeviceInput {
    uuid: Option<Uuid>,
    /// The values of [`KEYS`], in order.
    values: Vec<Option<String>>,
}

impl DeviceInput {
    /// Reads the device keys: 400 naming `device.<key>` when one is not text or too long,
    /// or `uuid` is malformed.
    pub(super) fn parse(device: &Map<String, Value>) -> Result<DeviceInput, ApiError> {
        let mut values: Vec<Option<String>> = Vec::with_capacity(KEYS.len());
        for key in KEYS {
            let value = input::text(device, key)?.map(|v| v.into_owned());
            if value.as_ref().is_some_and(|v| v.len() > MAX_VALUE) {
                return Err(ApiError::field(format!("device.{key}"), "too long"));
            }
            values.push(value);
        }
        let uuid = input::uuid("uuid", input::text(device, "uuid")?.as_deref())?;
        Ok(DeviceInput { uuid, values })
    }

    /// The device as kept with a code of a login that has no account yet (its row is
    /// written when the account is created): `{"uuid": .., "<key>": ..}`.
    pub(super) fn to_pending(&self, uuid: Uuid) -> String {
        let mut object = Map::new();
        object.insert("uuid".to_owned(), Value::String(uuid.to_string()));
        for (key, value) in KEYS.iter().zip(&self.values) {
            if let Some(value) = value {
                object.insert((*key).to_owned(), Value::String(value.clone()));
            }
        }
        Value::Object(object).to_string()
    }

    /// Reads what [`to_pending`](DeviceInput::to_pending) wrote: the device and its uuid.
    pub(super) fn from_pending(stored: &str) -> Option<(Uuid, DeviceInput)> {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(stored) else { return None };
        let uuid = object.get("uuid")?.as_str()?.parse().ok()?;
        let values = KEYS.iter().map(|key| object.get(*key).and_then(Value::as_str).map(str::to_owned)).collect();
        Some((uuid, DeviceInput { uuid: Some(uuid), values }))
    }

    fn firebase_token(&self) -> Option<&str> {
        self.values[5].as_deref().filter(|t| !t.is_empty())
    }
}

/// Which row a login's device is: an existing one of the user, or a new one whose uuid
/// is chosen now (so the answer can carry it before the row is written).
#[derive(Debug, Clone, Copy)]
pub(super) enum DeviceRow {
    Existing(i64, Uuid),
    New(Uuid),
}

impl DeviceRow {
    pub(super) fn uuid(self) -> Uuid {
        match self {
            DeviceRow::Existing(_, uuid) | DeviceRow::New(uuid) => uuid,
        }
    }
}

/// Finds the device by `uuid` (it must be `user`'s: else 400 `Invalid device uuid`), else
/// by `firebase_token`, else picks a fresh uuid. Reads only; `user` is `None` for a login
/// that has no account, which runs the same queries and so answers alike.
pub(super) async fn choose(db: &Db, user: Option<i64>, device: &DeviceInput) -> Result<DeviceRow, ApiError> {
    // No row has id 0: an account-less login looks up exactly what a real one does.
    let user = user.unwrap_or(0);
    let found: Option<(i64, Uuid)> = match (device.uuid, device.firebase_token()) {
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
        (None, Some(token)) => on_pool!(db, |pool| {
            sqlx::query_as(
            "SELECT id, uuid FROM nets_user_device WHERE user_id = $1 AND firebase_token = $2 ORDER BY id DESC LIMIT 1"
        )
        .bind(user)
        .bind(token)
        .fetch_optional(pool)
        .await
        })
        .map_err(ApiError::internal)?,
        (None, None) => None,
    };
    Ok(match found {
        Some((id, uuid)) => DeviceRow::Existing(id, uuid),
        None => DeviceRow::New(Uuid::new_v4()),
    })
}

/// Writes the device: updates the existing row from the request (a key left out keeps
/// its value) or creates the new one. Returns its row id.
pub(super) async fn save(db: &Db, user: i64, row: DeviceRow, device: &DeviceInput) -> Result<i64, ApiError> {
    let now = chrono::Utc::now();
    let id = write(db, user, row, device, now).await?;
    if let Some(token) = device.firebase_token() {
        claim_token(db, id, token, now).await?;
    }
    Ok(id)
}

/// A push token sent with a login belongs to this device now: no other row keeps it
/// (pushes meant for this phone never reach another account), and a device a dead
/// token had retired is active again, as `POST /push/token/` does.
async fn claim_token(db: &Db, id: i64, token: &str, now: chrono::DateTime<chrono::Utc>) -> Result<(), ApiError> {
    const REACTIVATE: &str = "UPDATE nets_user_device SET active = TRUE, inactive_reason = NULL, \
                              inactive_since = NULL WHERE id = $1 AND NOT active";
    on_pool!(db, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query(crate::db::RELEASE_PUSH_TOKEN).bind(token).bind(id).bind(now).execute(&mut *tx).await?;
        sqlx::query(REACTIVATE).bind(id).execute(&mut *tx).await?;
        tx.commit().await
    }
    .await)
    .map_err(ApiError::internal)
}

async fn write(
    db: &Db,
    user: i64,
    row: DeviceRow,
    device: &DeviceInput,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64, ApiError> {
    let values = &device.values;
    match row {
        DeviceRow::Existing(id, _) => {
            on_pool!(db, |pool| {
                // COALESCE: a key the request leaves out keeps its value.
                let mut query = sqlx::query(
                    "UPDATE nets_user_device SET updated = $1, name = COALESCE($2, name), os = COALESCE($3, os), \
                     os_version = COALESCE($4, os_version), app_version = COALESCE($5, app_version), \
                     device_type = COALESCE($6, device_type), firebase_token = COALESCE($7, firebase_token) \
                     WHERE id = $8",
                )
                .bind(now);
                for value in values {
                    query = query.bind(value);
                }
                query.bind(id).execute(pool).await.map(|r| r.rows_affected())
            })
            .map_err(ApiError::internal)?;
            Ok(id)
        }
        DeviceRow::New(uuid) => on_pool!(db, |pool| {
            let mut query = sqlx::query_scalar(
                "INSERT INTO nets_user_device (user_id, uuid, created, updated, name, os, os_version, app_version, \
                 device_type, firebase_token) VALUES ($1, $2, $3, $3, COALESCE($4, ''), $5, $6, $7, $8, $9) \
                 RETURNING id",
            )
            .bind(user)
            .bind(uuid)
            .bind(now);
            for value in values {
                query = query.bind(value);
            }
            query.fetch_one(pool).await
        })
        .map_err(ApiError::internal),
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
