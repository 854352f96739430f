//! A worker *process* killed (SIGKILL) with e-mails in flight: another worker finishes
//! the work, every e-mail is sent, and none recorded as sent before the kill is sent
//! again. The same for an application's job type run by the same workers. Runs on
//! SQLite, or PostgreSQL with `NETS_TEST_DATABASE_URL`.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nets_runtime::Settings;
use nets_runtime::db::Db;
use nets_runtime::jobs::{JobState, Jobs};
use nets_runtime::mail::{Mailer, Reason};
use nets_tests::db::{TestDb, test_db};
use nets_tests::jobs::{RecordRun, create_runs_table, recorded_runs};
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

/// The environment of the worker processes (the test's database, the SMTP server on
/// `smtp_port`, fast job timings, a queue prefix of its own), and the same as settings
/// for the test's own queue.
fn worker_env(db: &TestDb, smtp_port: u16) -> (Vec<(String, String)>, Settings) {
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
        ("EMAIL_PORT", &smtp_port.to_string()),
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
    (env, settings)
}

#[tokio::test]
async fn a_killed_worker_loses_nothing_and_sends_nothing_twice_once_recorded() {
    let smtp = SmtpServer::start().await;
    smtp.set_data_delay(Duration::from_millis(300)); // messages stay in flight a while
    let db = test_db().await;
    let (env, settings) = worker_env(&db, smtp.port);
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

#[tokio::test]
async fn a_killed_worker_s_app_jobs_are_finished_by_another_worker() {
    const JOBS: i64 = 16;
    let smtp = SmtpServer::start().await; // the workers' mailer needs one; no e-mail is sent
    let db = test_db().await;
    create_runs_table(&db).await;
    let (env, settings) = worker_env(&db, smtp.port);
    let jobs = Jobs::connect(&settings, &db).await.expect("job storage");
    let mut ids = Vec::new();
    for n in 0..JOBS {
        ids.push(jobs.enqueue(RecordRun { n, millis: 300 }).await.expect("queued"));
    }
    let states = async |ids: &[nets_runtime::jobs::JobId]| {
        let mut states = Vec::new();
        for id in ids {
            states.push(jobs.status(id).await.expect("status").expect("stored").state);
        }
        states
    };

    // Worker A: killed once a job is done, others in flight.
    let mut a = spawn_worker(&env);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !states(&ids).await.contains(&JobState::Done) {
        assert!(tokio::time::Instant::now() < deadline, "worker A finished no job");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.0.kill().expect("SIGKILL worker A");
    a.0.wait().expect("reap worker A");
    let at_kill = states(&ids).await;
    let done_at_kill: Vec<i64> = (0..JOBS).filter(|n| at_kill[*n as usize] == JobState::Done).collect();
    let in_flight_at_kill = at_kill.iter().filter(|s| **s == JobState::Running).count();
    assert!(in_flight_at_kill >= 1, "worker A died with jobs in flight: {at_kill:?}");

    // Worker B takes over A's jobs once A misses two heartbeats, and runs the rest.
    let _b = spawn_worker(&env);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let now = states(&ids).await;
        if now.iter().all(|s| *s == JobState::Done) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not all done: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut runs: HashMap<i64, usize> = HashMap::new();
    for n in recorded_runs(&db).await {
        *runs.entry(n).or_default() += 1;
    }
    for n in 0..JOBS {
        let count = runs.get(&n).copied().unwrap_or(0);
        assert!(count >= 1, "job {n} was lost");
        if done_at_kill.contains(&n) {
            assert_eq!(count, 1, "job {n} was done before the kill, and ran again");
        }
    }
    let duplicates: usize = runs.values().map(|c| c - 1).sum();
    assert!(duplicates <= in_flight_at_kill, "only jobs in flight at the kill may run twice: {runs:?}");
}
