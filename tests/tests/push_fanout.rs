//! Fan-out to a user's devices, persisted first, against the local FCM peer: targets
//! (active devices with a token, one message per distinct token), the rows written,
//! dead-token cleanup, and no double send when a job runs again. On SQLite, or
//! PostgreSQL with `NETS_TEST_DATABASE_URL`.

mod push_common;

use std::time::Duration;

use nets_runtime::db::on_pool;
use nets_runtime::jobs::JobState;
use nets_runtime::jobs::QueueFilter;
use nets_runtime::push::{Notification, PushError, PushFanout};
use nets_tests::db::test_db;
use nets_tests::fcm::{FcmPeer, Outcome};
use serde_json::json;

use push_common::{add_device, add_user, deliveries, device, notification, push_with_db, settings};

#[tokio::test]
async fn send_now_reaches_each_active_token_once_and_records_every_outcome() {
    let peer = FcmPeer::start().await;
    let db = test_db().await;
    let (push, _jobs) = push_with_db(&peer, &settings(&peer), &db).await;
    let ada = add_user(&db, "ada@example.com").await;
    let phone = add_device(&db, ada, Some("tok-phone"), true).await;
    let tablet_old = add_device(&db, ada, Some("tok-shared"), true).await; // same install, two rows
    let tablet = add_device(&db, ada, Some("tok-shared"), true).await;
    let retired = add_device(&db, ada, Some("tok-retired"), false).await;
    let blank = add_device(&db, ada, Some(""), true).await;
    let none = add_device(&db, ada, None, true).await;
    let gone = add_device(&db, ada, Some("tok-gone"), true).await;
    peer.script("tok-gone", [Outcome::Unregistered]);
    // The gone device keeps its codes and history: the original deleted it (cascading).
    on_pool!(&db.db, |pool| sqlx::query(
        "INSERT INTO nets_verification_code (user_id, device_id, code_digest, expires) VALUES ($1, $2, 'd', $3)"
    )
    .bind(ada)
    .bind(gone)
    .bind(chrono::Utc::now())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))
    .expect("a code of the gone device");

    let n = Notification::new("Hello", "Ada").data("n", json!(7)).channel("chat");
    let results = push.send_to_user_now(ada, n).await.expect("sent");
    let shown = serde_json::to_value(&results).expect("json");
    assert_eq!(shown.as_object().map(|o| o.len()), Some(3), "{shown}");
    assert_eq!(shown[phone.to_string()]["success"], true);
    assert!(shown[phone.to_string()]["message_id"].as_str().is_some_and(|m| m.contains("/messages/")));
    assert_eq!(shown[tablet.to_string()]["success"], true, "the shared token goes to its newest device row");
    assert_eq!(shown[gone.to_string()]["success"], false);
    assert!(
        shown[gone.to_string()]["error"].as_str().is_some_and(|e| e.starts_with("dead_token: UNREGISTERED")),
        "{shown}"
    );
    for skipped in [tablet_old, retired, blank, none] {
        assert!(shown.get(skipped.to_string()).is_none(), "device {skipped} is not a target: {shown}");
    }
    assert_eq!((peer.delivered("tok-phone"), peer.delivered("tok-shared"), peer.attempts("tok-retired")), (1, 1, 0));
    assert_eq!(peer.received().len(), 3);

    // Rows: the notification (title stored, unlike the original) and one delivery each.
    let id = only_notification(&db).await;
    let (status, title, message, data) = notification(&db, id).await;
    assert_eq!((status.as_str(), title.as_str(), message.as_deref()), ("partial", "Hello", Some("Ada")));
    assert_eq!(serde_json::from_str::<serde_json::Value>(&data).expect("json"), json!({"n": 7}));
    let rows = deliveries(&db, id).await;
    let by_device = |d: i64| rows.iter().find(|r| r.0 == d).cloned().expect("delivery row");
    assert_eq!(by_device(phone).1, "sent");
    assert_eq!(by_device(phone).2, 1);
    assert_eq!(by_device(gone).1, "dead");

    // The dead token is cleared, the device kept inactive with the reason; its code stays.
    let (token, active, reason) = device(&db, gone).await;
    assert_eq!((token, active), (None, false));
    assert!(reason.is_some_and(|r| r.contains("UNREGISTERED")));
    let codes: i64 =
        on_pool!(&db.db, |pool| sqlx::query_scalar("SELECT count(*) FROM nets_verification_code WHERE device_id = $1")
            .bind(gone)
            .fetch_one(pool)
            .await)
        .expect("codes");
    assert_eq!(codes, 1);

    // Running the fan-out again sends nothing new: sent rows are never sent twice.
    let (again, pending) = push.deliver(id).await.expect("re-run");
    assert_eq!((again.len(), pending), (3, 0));
    assert_eq!(peer.received().len(), 3, "nothing sent by the re-run");
    // A later notification skips the retired device.
    push.send_to_user_now(ada, Notification::new("Again", "")).await.expect("sent");
    assert_eq!(peer.attempts("tok-gone"), 1);
}

async fn only_notification(db: &nets_tests::db::TestDb) -> i64 {
    on_pool!(&db.db, |pool| sqlx::query_scalar("SELECT max(id) FROM nets_push_notification").fetch_one(pool).await)
        .expect("a notification")
}

#[tokio::test]
async fn a_retried_job_sends_only_what_failed_and_never_twice() {
    let peer = FcmPeer::start().await;
    let db = test_db().await;
    let mut s = settings(&peer);
    s.push_max_retries = 0; // every 503 is left to the job's next attempt
    let (push, jobs) = push_with_db(&peer, &s, &db).await;
    let bob = add_user(&db, "bob@example.com").await;
    let steady = add_device(&db, bob, Some("tok-steady"), true).await;
    let flaky = add_device(&db, bob, Some("tok-flaky"), true).await;
    peer.script("tok-flaky", [Outcome::Unavailable, Outcome::Unavailable, Outcome::Success]);

    let queued = push.send_to_user(bob, Notification::new("Hi", "Bob")).await.expect("queued");
    assert_eq!(queued.devices, 2);
    let job = queued.job.expect("a fan-out job");
    assert_eq!(jobs.status(&job).await.expect("status").map(|s| s.state), Some(JobState::Waiting));
    assert!(peer.received().is_empty(), "send_to_user returns before sending");

    let worker = jobs.worker().register::<PushFanout>(push.clone()).spawn().expect("worker");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if notification(&db, queued.notification_id).await.0 == "sent" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not sent: {:?}",
            deliveries(&db, queued.notification_id).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.stop().await.expect("worker stopped");
    let status = jobs.status(&job).await.expect("status").expect("stored");
    assert_eq!(status.state, JobState::Done);
    assert!(status.attempts >= 3, "two failed runs, then success: {status:?}");
    assert_eq!(peer.delivered("tok-steady"), 1, "the steady device got it once across the job's three runs");
    assert_eq!((peer.attempts("tok-flaky"), peer.delivered("tok-flaky")), (3, 1));
    let rows = deliveries(&db, queued.notification_id).await;
    assert_eq!(rows.iter().find(|r| r.0 == steady).map(|r| (r.1.as_str(), r.2)), Some(("sent", 1)));
    assert_eq!(rows.iter().find(|r| r.0 == flaky).map(|r| (r.1.as_str(), r.2)), Some(("sent", 3)));
}

#[tokio::test]
async fn dead_deliveries_are_listed_and_sent_again_by_retry() {
    let peer = FcmPeer::start().await;
    let db = test_db().await;
    let (push, jobs) = push_with_db(&peer, &settings(&peer), &db).await;
    let cy = add_user(&db, "cy@example.com").await;
    add_device(&db, cy, Some("tok-cfg"), true).await;
    peer.script("tok-cfg", [Outcome::ThirdPartyAuth, Outcome::Success]);

    let results = push.send_to_user_now(cy, Notification::new("a", "b")).await.expect("ran");
    assert!(results.values().all(|r| r.error.as_deref().is_some_and(|e| e.starts_with("config:"))), "{results:?}");
    let dead = push.queue(QueueFilter::Dead, 50).await.expect("list");
    assert_eq!(dead.len(), 1);
    assert!(push.queue(QueueFilter::Sent, 50).await.expect("list").is_empty());
    assert_eq!(peer.attempts("tok-cfg"), 1, "a configuration error is not retried per device");

    // Configuration fixed: `push retry`.
    assert!(push.retry(dead[0].id).await.expect("requeued"));
    assert!(!push.retry(dead[0].id).await.expect("not failed any more"), "a queued delivery is left alone");
    let worker = jobs.worker().register::<PushFanout>(push.clone()).spawn().expect("worker");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while push.queue(QueueFilter::Sent, 50).await.expect("list").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "not resent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.stop().await.expect("worker stopped");
    assert_eq!(peer.delivered("tok-cfg"), 1);
}

#[tokio::test]
async fn users_without_devices_unknown_users_and_many_users() {
    let peer = FcmPeer::start().await;
    let db = test_db().await;
    let (push, _jobs) = push_with_db(&peer, &settings(&peer), &db).await;
    let lonely = add_user(&db, "lonely@example.com").await;
    let queued = push.send_to_user(lonely, Notification::new("a", "b")).await.expect("stored");
    assert_eq!((queued.devices, queued.job.is_none()), (0, true));
    assert_eq!(notification(&db, queued.notification_id).await.0, "failed", "stored, listed, not sent");
    assert!(push.send_to_user_now(lonely, Notification::new("a", "b")).await.expect("no devices").is_empty());
    assert!(matches!(
        push.send_to_user(999_999, Notification::new("a", "b")).await,
        Err(PushError::UnknownUser(999_999))
    ));
    let bad = Notification::new("a", "b").data("from", json!("x"));
    assert!(
        matches!(push.send_to_user(lonely, bad).await, Err(PushError::Send(_))),
        "refused before anything is stored"
    );

    let mut users = Vec::new();
    for i in 0..5 {
        let u = add_user(&db, &format!("u{i}@example.com")).await;
        add_device(&db, u, Some(&format!("tok-u{i}")), true).await;
        users.push(u);
    }
    users.push(lonely);
    users.push(424_242);
    let mut reports = Vec::new();
    let done = push.send_to_users(&users, &Notification::new("News", "!"), |p| reports.push(p)).await.expect("queued");
    assert_eq!((done.total, done.processed, done.queued, done.without_device, done.unknown_users), (7, 7, 5, 1, 1));
    assert_eq!(reports.first().map(|p| p.processed), Some(0));
    assert_eq!(reports.last().copied(), Some(done));
}

#[tokio::test]
async fn without_credentials_rows_record_not_configured_or_the_console_send() {
    let db = test_db().await;
    let dee = add_user(&db, "dee@example.com").await;
    let phone = add_device(&db, dee, Some("tok-dee"), true).await;
    let production = nets_runtime::Settings::default();
    let off = nets_runtime::push::Push::builder(&production)
        .service_account("")
        .database(db.db.clone())
        .build()
        .expect("push");
    let results = off.send_to_user_now(dee, Notification::new("a", "b")).await.expect("ran");
    assert_eq!(results[&phone].error.as_deref(), Some("not_configured: FIREBASE_CONFIG is not set"));
    let id = only_notification(&db).await;
    assert_eq!(deliveries(&db, id).await[0].1, "dead", "recorded as failed, never silently dropped");
    assert_eq!(notification(&db, id).await.0, "failed");
    assert!(device(&db, phone).await.1, "a configuration problem does not retire tokens");

    let mut debug = nets_runtime::Settings::default();
    debug.debug = true;
    let console =
        nets_runtime::push::Push::builder(&debug).service_account("").database(db.db.clone()).build().expect("push");
    let results = console.send_to_user_now(dee, Notification::new("a", "b")).await.expect("ran");
    assert!(results[&phone].message_id.as_deref().is_some_and(|m| m.starts_with("projects/debug/messages/console-")));
    assert_eq!(notification(&db, only_notification(&db).await).await.0, "sent");
}
