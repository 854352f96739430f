//! The durable queue: queued e-mails sent by workers and recorded on their rows,
//! retries with backoff, dead jobs listed and retried, idempotent delivery, several
//! workers on one storage, bulk sends with progress. On SQLite by default, on PostgreSQL
//! with `NETS_TEST_DATABASE_URL`, and on Redis storage with `NETS_TEST_REDIS_URL`.

use std::time::Duration;

use nets_runtime::Settings;
use nets_runtime::db::Db;
use nets_runtime::jobs::{JobStorage, Jobs, WorkerHandle};
use nets_runtime::mail::{BulkProgress, Mailer, QueueFilter, Reason, SendEmail};
use nets_tests::db::{TestDb, test_db};
use nets_tests::smtp::SmtpServer;

/// Settings for `port`, fast job timings, a queue prefix of its own, plus `extra`.
fn settings_for(port: u16, extra: &str) -> Settings {
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    nets_tests::settings(&format!(
        "EMAIL_BACKEND = 'smtp'\nEMAIL_HOST = '127.0.0.1'\nEMAIL_PORT = {port}\nEMAIL_TIMEOUT = 3\n\
         DEFAULT_FROM_EMAIL = 'noreply@nets.test'\nNETS_CORE_JOBS_QUEUE_PREFIX = '{prefix}'\n\
         NETS_CORE_JOBS_HEARTBEAT_SECONDS = 1\nNETS_CORE_JOBS_POLL_MS = 50\nNETS_CORE_JOBS_BACKOFF_MS = 50\nNETS_CORE_JOBS_BACKOFF_MAX_MS = 200\n{extra}"
    ))
}

struct Setup {
    db: TestDb,
    jobs: Jobs,
    mailer: Mailer,
}

async fn setup(settings: &Settings) -> Setup {
    let db = test_db().await;
    let jobs = Jobs::connect(settings, &db).await.expect("job storage");
    setup_with(db, jobs, settings)
}

fn setup_with(db: TestDb, jobs: Jobs, settings: &Settings) -> Setup {
    let mailer = Mailer::builder(settings).database(db.db.clone()).jobs(jobs.clone()).build().expect("mailer");
    Setup { db, jobs, mailer }
}

/// A worker running the e-mail job.
fn email_worker(jobs: &Jobs, mailer: &Mailer) -> WorkerHandle {
    jobs.worker().register::<SendEmail>(mailer.clone()).spawn().expect("worker starts")
}

async fn queue_one(mailer: &Mailer, to: &str, subject: &str) -> i64 {
    let outcome =
        mailer.email(subject).to(to).html("<p>queued {{ n }}</p>").context(serde_json::json!({"n": 1})).send().await;
    assert_eq!(
        (outcome.sent, outcome.reason, outcome.description.as_str()),
        (true, Reason::EmailInQueue, "Email in queue."),
        "{outcome:?}"
    );
    assert_eq!(outcome.notification_ids.len(), 1);
    outcome.notification_ids[0]
}

/// Waits (up to 60 s) until row `id` has `status`; returns (status, attempts, last_error).
async fn wait_status(mailer: &Mailer, id: i64, status: &str, min_attempts: i32) -> (String, i32, Option<String>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let row = mailer.queue_status(id).await.expect("status").expect("row exists");
        if row.0 == status && row.1 >= min_attempts {
            return row;
        }
        assert!(tokio::time::Instant::now() < deadline, "row {id} never reached {status}/{min_attempts}: {row:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_queued_email_is_stored_then_sent_by_a_worker_and_recorded() {
    let smtp = SmtpServer::start().await;
    let settings = settings_for(smtp.port, "");
    let s = setup(&settings).await;
    let id = queue_one(&s.mailer, "ada@example.com", "Queued hello").await;
    let queued = s.mailer.queue(QueueFilter::Queued, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (queued[0].id, queued[0].status.as_str(), queued[0].recipients.as_str()),
        (id, "queued", "[\"ada@example.com\"]")
    );
    assert!(smtp.received().is_empty(), "nothing is sent until a worker runs");

    let worker = email_worker(&s.jobs, &s.mailer);
    let got = smtp.wait_for(1).await;
    assert_eq!((got[0].to.clone(), got[0].subject()), (vec!["ada@example.com".to_owned()], "Queued hello".to_owned()));
    assert!(got[0].html().contains("queued 1") && got[0].text().contains("queued 1"));
    assert_eq!(wait_status(&s.mailer, id, "sent", 1).await, ("sent".to_owned(), 1, None));
    assert_eq!(s.mailer.queue(QueueFilter::Sent, 10).await.unwrap().len(), 1);
    assert!(s.mailer.queue(QueueFilter::Queued, 10).await.unwrap().is_empty());
    assert!(!s.mailer.retry(id).await.unwrap(), "a sent e-mail is not retried");
    worker.stop().await.expect("worker stops cleanly");
}

#[tokio::test]
async fn a_down_server_is_retried_with_backoff_until_dead_and_the_retry_command_sends_it() {
    let port = free_port();
    let settings = settings_for(port, "NETS_CORE_JOBS_MAX_ATTEMPTS = 3");
    let s = setup(&settings).await;
    let id = queue_one(&s.mailer, "ada@example.com", "Eventually").await;
    let worker = email_worker(&s.jobs, &s.mailer);

    let (status, attempts, error) = wait_status(&s.mailer, id, "failed", 3).await;
    assert_eq!((status.as_str(), attempts), ("failed", 3));
    assert!(error.as_deref().is_some_and(|e| !e.is_empty()), "the SMTP error is recorded: {error:?}");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(s.mailer.queue_status(id).await.unwrap().unwrap().1, 3, "no attempt after the last one");
    let dead = s.mailer.queue(QueueFilter::Dead, 10).await.unwrap();
    assert_eq!(dead.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id]);
    assert!(s.mailer.queue(QueueFilter::Failed, 10).await.unwrap().is_empty());

    // The server comes back; the operator retries the dead e-mail.
    let smtp = SmtpServer::start_with(port, None).await;
    assert!(s.mailer.retry(id).await.unwrap());
    assert_eq!(smtp.wait_for(1).await[0].subject(), "Eventually");
    let (status, attempts, error) = wait_status(&s.mailer, id, "sent", 1).await;
    assert_eq!((status.as_str(), attempts, error), ("sent", 1, None));
    worker.stop().await.unwrap();
}

#[tokio::test]
async fn a_server_that_comes_back_during_the_retries_gets_the_email() {
    let port = free_port();
    let settings = settings_for(port, "NETS_CORE_JOBS_MAX_ATTEMPTS = 50");
    let s = setup(&settings).await;
    let id = queue_one(&s.mailer, "ada@example.com", "Persistent").await;
    let worker = email_worker(&s.jobs, &s.mailer);
    wait_status(&s.mailer, id, "failed", 2).await;
    let smtp = SmtpServer::start_with(port, None).await;
    assert_eq!(smtp.wait_for(1).await[0].subject(), "Persistent");
    let (_, attempts, error) = wait_status(&s.mailer, id, "sent", 3).await;
    assert!(attempts >= 3 && error.is_none(), "{attempts} {error:?}");
    worker.stop().await.unwrap();
}

#[tokio::test]
async fn a_job_for_a_row_already_sent_sends_nothing() {
    let smtp = SmtpServer::start().await;
    let settings = settings_for(smtp.port, "");
    let s = setup(&settings).await;
    let id = queue_one(&s.mailer, "ada@example.com", "Once").await;
    s.jobs.enqueue(SendEmail { notification_id: id }).await.unwrap(); // the same row queued twice
    s.jobs.enqueue(SendEmail { notification_id: id }).await.unwrap();
    let worker = email_worker(&s.jobs, &s.mailer);
    wait_status(&s.mailer, id, "sent", 1).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(smtp.received().len(), 1, "three jobs, one message");
    assert_eq!(s.mailer.queue_status(id).await.unwrap().unwrap().1, 1);
    worker.stop().await.unwrap();
}

#[tokio::test]
async fn several_workers_on_one_storage_send_every_email_exactly_once() {
    let smtp = SmtpServer::start().await;
    smtp.set_data_delay(Duration::from_millis(20));
    let settings = settings_for(smtp.port, "");
    let s = setup(&settings).await;
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(queue_one(&s.mailer, &format!("user{n}@example.com"), &format!("Message {n}")).await);
    }
    let workers: Vec<_> = (0..3).map(|_| email_worker(&s.jobs, &s.mailer)).collect();
    smtp.wait_for(30).await;
    for id in &ids {
        assert_eq!(wait_status(&s.mailer, *id, "sent", 1).await.1, 1);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut subjects: Vec<String> = smtp.received().iter().map(|m| m.subject()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!((smtp.received().len(), subjects.len()), (30, 30));
    for w in workers {
        w.stop().await.unwrap();
    }
}

#[tokio::test]
async fn a_bulk_send_reports_progress_and_keeps_counts() {
    let smtp = SmtpServer::start().await;
    let settings = settings_for(smtp.port, "NETS_CORE_EMAIL_EXCLUDE_DOMAINS = ['mailinator*']");
    let s = setup(&settings).await;
    let mut recipients: Vec<String> = (0..118).map(|n| format!("reader{n}@example.com")).collect();
    recipients.push("spam@mailinator.com".into());
    recipients.push("broken".into());
    let id = insert_custom_email(&s.db, "Newsletter", &recipients, "<html><body>Hello {{ email }}</body></html>").await;

    let mut reports = Vec::new();
    let done = s.mailer.queue_custom_email(id, |p| reports.push(p)).await.unwrap();
    assert_eq!(done, BulkProgress { total: 120, processed: 120, queued: 118, dropped: 2 });
    assert_eq!(reports.iter().map(|p| p.processed).collect::<Vec<_>>(), vec![0, 100, 120]);
    assert!(s.mailer.queue_custom_email(9_999_999, |_| {}).await.is_err());

    let worker = email_worker(&s.jobs, &s.mailer);
    let got = smtp.wait_for(118).await;
    let sample = got.iter().find(|m| m.to == vec!["reader7@example.com".to_owned()]).expect("reader7 got it");
    assert!(
        sample.html().contains("Hello reader7@example.com") && sample.html().contains("footer"),
        "{}",
        sample.html()
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = s.mailer.custom_email_status(id).await.unwrap();
        let (sent, completed) = custom_email_counts(&s.db, id).await;
        if status.sent == 118 && sent == 118 && completed {
            assert_eq!((status.total, status.failed), (118, 0));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status:?} {sent} {completed}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.stop().await.unwrap();
}

#[tokio::test]
async fn jobs_on_redis_storage() {
    let Ok(url) = std::env::var("NETS_TEST_REDIS_URL") else {
        eprintln!("NETS_TEST_REDIS_URL not set: Redis job storage not tested (CI sets it)");
        return;
    };
    let smtp = SmtpServer::start().await;
    let settings = settings_for(smtp.port, "NETS_CORE_JOBS_MAX_ATTEMPTS = 3");
    let storage = match JobStorage::connect_url(&url).await {
        Ok(s) => s,
        Err(e) => panic!("NETS_TEST_REDIS_URL={url} is set but Redis cannot be used: {e}"),
    };
    assert!(matches!(storage, JobStorage::Redis(_)));
    let s = setup_with(test_db().await, Jobs::new(storage, &settings), &settings);
    let ids = [
        queue_one(&s.mailer, "ada@example.com", "Via Redis 1").await,
        queue_one(&s.mailer, "bob@example.com", "Via Redis 2").await,
    ];
    s.jobs.enqueue(SendEmail { notification_id: ids[0] }).await.unwrap(); // a duplicate job: still one message
    let worker = email_worker(&s.jobs, &s.mailer);
    smtp.wait_for(2).await;
    for id in ids {
        assert_eq!(wait_status(&s.mailer, id, "sent", 1).await.1, 1);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 2);
    worker.stop().await.unwrap();
    delete_keys(&url, &format!("{}:", settings.jobs_queue_prefix)).await;
}

/// Removes this test's keys (others test against the same Redis).
async fn delete_keys(url: &str, prefix: &str) {
    let client = redis::Client::open(url).expect("redis URL");
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis connection");
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.expect("KEYS");
    assert!(!keys.is_empty(), "the Redis storage held this test's jobs under {prefix}");
    let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await.expect("DEL");
}

#[tokio::test]
async fn unknown_job_storage_urls_are_refused() {
    let err = JobStorage::connect_url("mysql://user:pw@host/db").await.unwrap_err();
    assert!(err.to_string().contains("unsupported job storage URL"), "{err}");
    assert!(!err.to_string().contains("pw"), "no password in messages: {err}");
}

async fn insert_custom_email(db: &Db, subject: &str, recipients: &[String], html: &str) -> i64 {
    let list = serde_json::to_string(recipients).unwrap();
    match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar(
                "INSERT INTO nets_custom_email (subject, recipients, html_body) VALUES (?1, ?2, ?3) RETURNING id",
            )
            .bind(subject)
            .bind(list)
            .bind(html)
            .fetch_one(pool)
            .await
        }
        Db::Postgres(pool) => sqlx::query_scalar(
            "INSERT INTO nets_custom_email (subject, recipients, html_body) VALUES ($1, $2::jsonb, $3) RETURNING id",
        )
        .bind(subject)
        .bind(list)
        .bind(html)
        .fetch_one(pool)
        .await,
    }
    .expect("insert custom email")
}

async fn custom_email_counts(db: &Db, id: i64) -> (i32, bool) {
    match db {
        Db::Sqlite(pool) => {
            sqlx::query_as("SELECT sent_count, completed FROM nets_custom_email WHERE id = ?1")
                .bind(id)
                .fetch_one(pool)
                .await
        }
        Db::Postgres(pool) => {
            sqlx::query_as("SELECT sent_count, completed FROM nets_custom_email WHERE id = $1")
                .bind(id)
                .fetch_one(pool)
                .await
        }
    }
    .expect("custom email row")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn an_email_whose_job_cannot_be_queued_is_failed_and_retryable() {
    let smtp = SmtpServer::start().await;
    let settings = settings_for(smtp.port, "");
    let db = test_db().await;
    let path = std::env::temp_dir().join(format!("nets-jobs-{}.db", uuid::Uuid::new_v4().simple()));
    let broken = JobStorage::connect_url(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    if let JobStorage::Sqlite(pool) = &broken {
        pool.close().await; // the job storage goes away
    }
    let s = setup_with(db, Jobs::new(broken, &settings), &settings);
    let o = s.mailer.email("Unqueued").to("ada@example.com").html("<p>x</p>").send().await;
    assert_eq!((o.sent, o.reason), (false, Reason::EmailNotSent), "{o:?}");
    let failed = s.mailer.queue(QueueFilter::Failed, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert!(failed[0].last_error.as_deref().unwrap_or_default().starts_with("not queued:"), "{failed:?}");

    // With a working queue, the operator's retry sends it.
    let jobs = Jobs::connect(&settings, &s.db).await.unwrap();
    let fixed = setup_with(s.db, jobs, &settings);
    assert!(fixed.mailer.retry(failed[0].id).await.unwrap());
    let worker = email_worker(&fixed.jobs, &fixed.mailer);
    assert_eq!(smtp.wait_for(1).await[0].subject(), "Unqueued");
    wait_status(&fixed.mailer, failed[0].id, "sent", 1).await;
    worker.stop().await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
