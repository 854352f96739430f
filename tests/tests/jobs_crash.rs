//! A worker *process* killed (SIGKILL) with e-mails in flight: another worker finishes
//! the work, every e-mail is sent, and none recorded as sent before the kill is sent
//! again. Runs on SQLite, or PostgreSQL with `NETS_TEST_DATABASE_URL`.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nets_runtime::db::Db;
use nets_runtime::jobs::Jobs;
use nets_runtime::mail::{Mailer, Reason};
use nets_tests::db::test_db;
use nets_tests::smtp::SmtpServer;

const EMAILS: usize = 24;

/// Kills the child if the test fails midway.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_worker(env: &[(String, String)]) -> Worker {
    let child = Command::new(env!("CARGO_BIN_EXE_nets-test-worker"))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NETS_CONFIG", "/nonexistent/nets.toml")
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the worker process");
    Worker(child)
}

async fn statuses(db: &Db, ids: &[i64]) -> HashMap<i64, String> {
    let rows: Vec<(i64, String)> = match db {
        Db::Sqlite(pool) => sqlx::query_as("SELECT id, status FROM nets_email_notification").fetch_all(pool).await,
        Db::Postgres(pool) => sqlx::query_as("SELECT id, status FROM nets_email_notification").fetch_all(pool).await,
    }
    .expect("statuses");
    rows.into_iter().filter(|(id, _)| ids.contains(id)).collect()
}

#[tokio::test]
async fn a_killed_worker_loses_nothing_and_sends_nothing_twice_once_recorded() {
    let smtp = SmtpServer::start().await;
    smtp.set_data_delay(Duration::from_millis(300)); // messages stay in flight a while
    let db = test_db().await;
    let url = match (&db.db, db.schema()) {
        (Db::Sqlite(pool), _) => format!("sqlite://{}", pool.connect_options().get_filename().display()),
        (Db::Postgres(_), Some(schema)) => {
            let base = std::env::var(nets_tests::db::TEST_DATABASE_URL).expect("PostgreSQL URL");
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{schema}")
        }
        (Db::Postgres(_), None) => unreachable!("PostgreSQL test databases have a schema"),
    };
    let prefix = format!("crash{}", uuid::Uuid::new_v4().simple());
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", url.as_str()),
        ("EMAIL_BACKEND", "smtp"),
        ("EMAIL_HOST", "127.0.0.1"),
        ("EMAIL_PORT", &smtp.port.to_string()),
        ("EMAIL_TIMEOUT", "2"),
        ("DEFAULT_FROM_EMAIL", "noreply@nets.test"),
        ("NETS_CORE_JOBS_QUEUE_PREFIX", &prefix),
        ("NETS_CORE_JOBS_HEARTBEAT_SECONDS", "1"),
        ("NETS_CORE_JOBS_POLL_MS", "50"),
        ("NETS_CORE_JOBS_BACKOFF_MS", "100"),
        ("NETS_CORE_JOBS_BACKOFF_MAX_MS", "500"),
        ("NETS_CORE_JOBS_MAX_ATTEMPTS", "100"),
        ("NETS_CORE_JOBS_CONCURRENCY", "4"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut settings = nets_tests::settings("");
    for (k, v) in &env {
        match k.as_str() {
            "NETS_CORE_JOBS_QUEUE_PREFIX" => settings.jobs_queue_prefix = v.clone(),
            "NETS_CORE_JOBS_MAX_ATTEMPTS" => settings.jobs_max_attempts = 100,
            // Outside DEBUG a mailer needs a backend (no silent console fallback).
            "EMAIL_BACKEND" => settings.email_backend = v.clone(),
            "EMAIL_HOST" => settings.email_host = v.clone(),
            _ => {}
        }
    }
    let jobs = Jobs::connect(&settings, &db).await.expect("job storage");
    let mailer = Mailer::builder(&settings).database(db.db.clone()).jobs(jobs).build().expect("mailer");
    let mut ids = Vec::new();
    for n in 0..EMAILS {
        let o = mailer.email(format!("Crash {n}")).to(format!("user{n}@example.com")).html("<p>x</p>").send().await;
        assert_eq!(o.reason, Reason::EmailInQueue, "{o:?}");
        ids.extend(o.notification_ids);
    }

    // Worker A: killed once a few messages went out, others in flight.
    let mut a = spawn_worker(&env);
    smtp.wait_for(4).await;
    // The SMTP server counts a message when it accepts it; the worker records it a moment
    // later. Kill only once a send is recorded, so "sent before the kill" is never empty
    // by a scheduling accident.
    let recorded = tokio::time::Instant::now() + Duration::from_secs(30);
    while !statuses(&db, &ids).await.values().any(|s| s == "sent") && tokio::time::Instant::now() < recorded {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.0.kill().expect("SIGKILL worker A");
    a.0.wait().expect("reap worker A");
    let at_kill = statuses(&db, &ids).await;
    let sent_at_kill: Vec<i64> = ids.iter().copied().filter(|id| at_kill[id] == "sent").collect();
    let sending_at_kill = at_kill.values().filter(|s| *s == "sending").count();
    assert!(!sent_at_kill.is_empty() && sent_at_kill.len() < EMAILS, "{at_kill:?}");
    assert!(sending_at_kill >= 1, "worker A died with e-mails in flight: {at_kill:?}");

    // Worker B takes over the orphaned jobs and the rest of the queue.
    let _b = spawn_worker(&env);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let now = statuses(&db, &ids).await;
        if now.values().all(|s| s == "sent") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not all sent: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut received: HashMap<String, usize> = HashMap::new();
    for m in smtp.received() {
        *received.entry(m.subject()).or_default() += 1;
    }
    for (n, id) in ids.iter().enumerate() {
        let count = received.get(&format!("Crash {n}")).copied().unwrap_or(0);
        assert!(count >= 1, "e-mail {n} (row {id}) was lost");
        if sent_at_kill.contains(id) {
            assert_eq!(count, 1, "e-mail {n} was recorded as sent before the kill, and sent again");
        }
    }
    let duplicates: usize = received.values().map(|c| c - 1).sum();
    assert!(duplicates <= sending_at_kill, "only messages in flight at the kill may arrive twice: {received:?}");
}
