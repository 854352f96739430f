//! A worker *process* killed (SIGKILL) in the middle of a fan-out: another worker
//! finishes it, every device gets the notification, and no device recorded as sent
//! before the kill gets it twice. Runs on SQLite, or PostgreSQL with
//! `NETS_TEST_DATABASE_URL`.
//!
//! The worker processes are this test binary run again with `WORKER_ENV` set, running
//! only [`worker_process`], configured like a deployed worker: from the environment
//! (`DATABASE_URL`, `FIREBASE_CONFIG` holding the service-account JSON,
//! `NETS_CORE_FCM_BASE_URL`, `NETS_CORE_JOBS_*`).

mod push_common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nets_runtime::Settings;
use nets_runtime::db::{Db, on_pool};
use nets_runtime::jobs::Jobs;
use nets_runtime::push::{Notification, Push, PushFanout};
use nets_tests::db::{TestDb, test_db};
use nets_tests::fcm::{FcmPeer, Outcome};

use push_common::{add_device, add_user};

/// Set in the environment of the worker processes.
const WORKER_ENV: &str = "NETS_PUSH_CRASH_WORKER";
const DEVICES: usize = 24;

/// The worker process: runs the push fan-out job until killed. Ignored (and a no-op)
/// unless started by the crash test.
#[tokio::test]
#[ignore = "started as a separate process by the crash test"]
async fn worker_process() {
    if std::env::var_os(WORKER_ENV).is_none() {
        return;
    }
    let settings = Settings::load().expect("worker settings from the environment");
    let db = Db::connect(&settings.database_url, 4).await.expect("worker database");
    let jobs = Jobs::connect(&settings, &db).await.expect("worker job storage");
    let push = Push::builder(&settings).database(db).jobs(jobs.clone()).build().expect("worker push");
    assert!(push.is_configured(), "FIREBASE_CONFIG from the environment");
    jobs.worker().register::<PushFanout>(push).run(std::future::pending()).await.expect("worker ran");
}

/// Kills the child if the test fails midway.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_worker(env: &[(String, String)]) -> Worker {
    let exe = std::env::current_exe().expect("this test binary");
    let child = Command::new(exe)
        .args(["--exact", "worker_process", "--ignored", "--nocapture"])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(WORKER_ENV, "1")
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NETS_CONFIG", "/nonexistent/nets.toml")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the worker process");
    Worker(child)
}

fn database_url(db: &TestDb) -> String {
    match (&db.db, db.schema()) {
        (Db::Sqlite(pool), _) => format!("sqlite://{}", pool.connect_options().get_filename().display()),
        (Db::Postgres(_), Some(schema)) => {
            let base = std::env::var(nets_tests::db::TEST_DATABASE_URL).expect("PostgreSQL URL");
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        }
        (Db::Postgres(_), None) => unreachable!("PostgreSQL test databases have a schema"),
    }
}

/// Delivery status by device id.
async fn statuses(db: &Db, notification: i64) -> HashMap<i64, String> {
    let rows: Vec<(i64, String)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT device_id, status FROM nets_push_notification_device WHERE notification_id = $1"
    )
    .bind(notification)
    .fetch_all(pool)
    .await)
    .expect("statuses");
    rows.into_iter().collect()
}

#[tokio::test]
async fn a_killed_worker_loses_no_device_and_sends_nothing_twice_once_recorded() {
    let peer = FcmPeer::start().await;
    let db = test_db().await;
    let prefix = format!("pushcrash{}", uuid::Uuid::new_v4().simple());
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", database_url(&db)),
        ("FIREBASE_CONFIG", peer.service_account_json()),
        ("NETS_CORE_FCM_BASE_URL", peer.base.clone()),
        ("NETS_CORE_PUSH_TIMEOUT_SECONDS", "2".into()),
        ("NETS_CORE_PUSH_MAX_RETRIES", "0".into()),
        ("NETS_CORE_PUSH_CONCURRENCY", "3".into()),
        ("NETS_CORE_JOBS_QUEUE_PREFIX", prefix.clone()),
        ("NETS_CORE_JOBS_HEARTBEAT_SECONDS", "1".into()),
        ("NETS_CORE_JOBS_POLL_MS", "50".into()),
        ("NETS_CORE_JOBS_BACKOFF_MS", "100".into()),
        ("NETS_CORE_JOBS_BACKOFF_MAX_MS", "500".into()),
        ("NETS_CORE_JOBS_MAX_ATTEMPTS", "200".into()),
        ("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut settings = push_common::settings(&peer);
    settings.jobs_queue_prefix = prefix;
    let (push, _jobs) = push_common::push_with_db(&peer, &settings, &db).await;

    let user = add_user(&db, "many@example.com").await;
    let mut tokens = HashMap::new();
    for i in 0..DEVICES {
        let token = format!("tok-{i}");
        // Each send stays in flight a while, so the kill finds some.
        peer.script(&token, [Outcome::Slow(Duration::from_millis(300))]);
        tokens.insert(add_device(&db, user, Some(&token), true).await, token);
    }
    let queued = push.send_to_user(user, Notification::new("Crash", "test")).await.expect("queued");
    assert_eq!(queued.devices, DEVICES);

    // Worker A: killed once a delivery is recorded as sent, with others in flight.
    let mut a = spawn_worker(&env);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = statuses(&db.db, queued.notification_id).await;
        if now.values().any(|s| s == "sent") && now.values().any(|s| s == "sending") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "worker A sent nothing: {now:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.0.kill().expect("SIGKILL worker A");
    a.0.wait().expect("reap worker A");
    let at_kill = statuses(&db.db, queued.notification_id).await;
    let sent_at_kill: Vec<i64> = at_kill.iter().filter(|(_, s)| *s == "sent").map(|(d, _)| *d).collect();
    let sending_at_kill = at_kill.values().filter(|s| *s == "sending").count();
    assert!(!sent_at_kill.is_empty() && sent_at_kill.len() < DEVICES, "{at_kill:?}");
    assert!(sending_at_kill >= 1, "worker A died with pushes in flight: {at_kill:?}");

    // Worker B takes the orphaned fan-out over once A misses two heartbeats, and sends
    // the in-flight deliveries once their claim lapses.
    let _b = spawn_worker(&env);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let now = statuses(&db.db, queued.notification_id).await;
        if now.values().all(|s| s == "sent") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not all sent: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut duplicates = 0;
    for (device, token) in &tokens {
        let got = peer.delivered(token);
        assert!(got >= 1, "device {device} ({token}) was lost");
        if sent_at_kill.contains(device) {
            assert_eq!(got, 1, "device {device} was recorded as sent before the kill, and sent again");
        }
        duplicates += got - 1;
    }
    assert!(duplicates <= sending_at_kill, "only pushes in flight at the kill may arrive twice");
}
