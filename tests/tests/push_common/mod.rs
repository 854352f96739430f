//! What the push test files share: settings pointing at the local FCM peer, a `Push`
//! built against it, and users and devices in a test database.
#![allow(dead_code)] // each test binary uses its own part

use nets_runtime::Settings;
use nets_runtime::db::{Db, on_pool};
use nets_runtime::jobs::Jobs;
use nets_runtime::push::Push;
use nets_tests::fcm::FcmPeer;

/// Settings for the peer: short timeouts and backoffs so failure tests are quick.
pub fn settings(peer: &FcmPeer) -> Settings {
    let mut s = Settings::default();
    s.fcm_base_url = peer.base.clone();
    s.push_timeout_seconds = 1;
    s.push_max_retries = 2;
    s.push_backoff_ms = 20;
    s.push_backoff_max_ms = 3000;
    s.jobs_queue_prefix = format!("push{}", uuid::Uuid::new_v4().simple());
    s.jobs_poll_ms = 50;
    s.jobs_backoff_ms = 50;
    s.jobs_backoff_max_ms = 200;
    s.jobs_heartbeat_seconds = 1;
    s
}

/// A `Push` sending to the peer (no database).
pub fn push(peer: &FcmPeer, settings: &Settings) -> Push {
    Push::builder(settings).service_account(peer.service_account_json()).build().expect("push against the peer")
}

/// A `Push` with the database and a job queue.
pub async fn push_with_db(peer: &FcmPeer, settings: &Settings, db: &Db) -> (Push, Jobs) {
    let jobs = Jobs::connect(settings, db).await.expect("job storage");
    let push = Push::builder(settings)
        .service_account(peer.service_account_json())
        .database(db.clone())
        .jobs(jobs.clone())
        .build()
        .expect("push against the peer");
    (push, jobs)
}

/// Inserts a user; its id.
pub async fn add_user(db: &Db, email: &str) -> i64 {
    on_pool!(db, |pool| sqlx::query_scalar("INSERT INTO nets_user (email) VALUES ($1) RETURNING id")
        .bind(email)
        .fetch_one(pool)
        .await)
    .expect("insert user")
}

/// Inserts a device of `user` with `token` (`None`: no token) and `active`; its id.
pub async fn add_device(db: &Db, user: i64, token: Option<&str>, active: bool) -> i64 {
    on_pool!(db, |pool| sqlx::query_scalar(
        "INSERT INTO nets_user_device (user_id, uuid, name, firebase_token, active) VALUES ($1, $2, 'phone', $3, $4) RETURNING id"
    )
    .bind(user)
    .bind(uuid::Uuid::new_v4())
    .bind(token)
    .bind(active)
    .fetch_one(pool)
    .await)
    .expect("insert device")
}

/// A device's (token, active, inactive_reason).
pub async fn device(db: &Db, id: i64) -> (Option<String>, bool, Option<String>) {
    on_pool!(db, |pool| sqlx::query_as(
        "SELECT firebase_token, active, inactive_reason FROM nets_user_device WHERE id = $1"
    )
    .bind(id)
    .fetch_one(pool)
    .await)
    .expect("device row")
}

/// Every delivery of a notification: (device id, status, attempts, message id, error).
pub async fn deliveries(db: &Db, notification: i64) -> Vec<(i64, String, i32, Option<String>, Option<String>)> {
    on_pool!(db, |pool| sqlx::query_as(
        "SELECT device_id, status, attempts, message_id, error FROM nets_push_notification_device \
         WHERE notification_id = $1 ORDER BY device_id"
    )
    .bind(notification)
    .fetch_all(pool)
    .await)
    .expect("deliveries")
}

/// A notification's (status, title, message, data as text).
pub async fn notification(db: &Db, id: i64) -> (String, String, Option<String>, String) {
    let row: (String, String, Option<String>, sqlx::types::Json<serde_json::Value>) =
        on_pool!(db, |pool| sqlx::query_as(
            "SELECT status, title, message, data FROM nets_push_notification WHERE id = $1"
        )
        .bind(id)
        .fetch_one(pool)
        .await)
        .expect("notification row");
    (row.0, row.1, row.2, row.3.0.to_string())
}
