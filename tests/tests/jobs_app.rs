//! Job types of the application on the queue and the workers e-mail uses: run beside
//! e-mail by one worker, retried with backoff then dead and kept, left waiting (never
//! lost) while no worker registered their type, refused registrations. On SQLite by
//! default, on PostgreSQL with `NETS_TEST_DATABASE_URL`, and on Redis storage with
//! `NETS_TEST_REDIS_URL` (the `_on_redis` tests).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nets_runtime::Settings;
use nets_runtime::jobs::{Job, JobError, JobId, JobState, JobStatus, JobStorage, Jobs, JobsError};
use nets_runtime::mail::{Mailer, Reason, SendEmail};
use nets_tests::db::{TestDb, test_db};
use nets_tests::smtp::SmtpServer;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// Settings for `port`, fast job timings, a queue prefix of its own, plus `extra`.
fn settings_for(port: u16, extra: &str) -> Settings {
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    nets_tests::settings(&format!(
        "EMAIL_BACKEND = 'smtp'\nEMAIL_HOST = '127.0.0.1'\nEMAIL_PORT = {port}\nEMAIL_TIMEOUT = 3\n\
         DEFAULT_FROM_EMAIL = 'noreply@nets.test'\nNETS_CORE_JOBS_QUEUE_PREFIX = '{prefix}'\n\
         NETS_CORE_JOBS_HEARTBEAT_SECONDS = 1\nNETS_CORE_JOBS_POLL_MS = 50\nNETS_CORE_JOBS_BACKOFF_MS = 50\nNETS_CORE_JOBS_BACKOFF_MAX_MS = 200\n{extra}"
    ))
}

/// One run of a test job: (job name, n, when).
type Run = (&'static str, u32, Instant);

/// Every run of the test job types, in order.
#[derive(Clone, Default)]
struct Runs(Arc<Mutex<Vec<Run>>>);

impl Runs {
    fn record(&self, job: &'static str, n: u32) {
        self.0.lock().unwrap().push((job, n, Instant::now()));
    }
    /// When job `job` number `n` ran.
    fn of(&self, job: &str, n: u32) -> Vec<Instant> {
        self.0.lock().unwrap().iter().filter(|r| r.0 == job && r.1 == n).map(|r| r.2).collect()
    }
}

/// How a [`Task`] run ends.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Outcome {
    Succeed,
    /// Fails with a retryable error for its first `n` runs, then succeeds.
    FailTimes(usize),
    /// Fails with a retryable error every time.
    AlwaysFail,
    /// Fails with a permanent error.
    Refuse,
}

/// The application's job type.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Task {
    n: u32,
    outcome: Outcome,
}

impl Job for Task {
    const NAME: &'static str = "test.task";
    type Context = Runs;

    async fn run(&self, runs: &Runs) -> Result<(), JobError> {
        runs.record(Self::NAME, self.n);
        match self.outcome {
            Outcome::Succeed => Ok(()),
            Outcome::FailTimes(k) if runs.of(Self::NAME, self.n).len() > k => Ok(()),
            Outcome::FailTimes(_) | Outcome::AlwaysFail => Err(JobError::retry(format!("task {} failed", self.n))),
            Outcome::Refuse => Err(JobError::permanent(format!("task {} refused", self.n))),
        }
    }
}

/// A job type the first worker does not register.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Later {
    n: u32,
}

impl Job for Later {
    const NAME: &'static str = "test.later";
    type Context = Runs;

    async fn run(&self, runs: &Runs) -> Result<(), JobError> {
        runs.record(Self::NAME, self.n);
        Ok(())
    }
}

/// Another type claiming [`Task`]'s name.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Impostor;

impl Job for Impostor {
    const NAME: &'static str = "test.task";
    type Context = ();

    async fn run(&self, _: &()) -> Result<(), JobError> {
        Ok(())
    }
}

/// Which job storage a scenario runs on.
enum Storage {
    /// The test database (SQLite, or PostgreSQL with `NETS_TEST_DATABASE_URL`).
    Database,
    /// `NETS_TEST_REDIS_URL`.
    Redis(String),
}

/// `Storage::Redis` when `NETS_TEST_REDIS_URL` is set.
fn redis() -> Option<Storage> {
    match std::env::var("NETS_TEST_REDIS_URL") {
        Ok(url) => Some(Storage::Redis(url)),
        Err(_) => {
            eprintln!("NETS_TEST_REDIS_URL not set: Redis job storage not tested (CI sets it)");
            None
        }
    }
}

struct Setup {
    db: TestDb,
    jobs: Jobs,
    mailer: Mailer,
    settings: Settings,
    redis: Option<String>,
}

impl Setup {
    async fn new(storage: Storage, settings: Settings) -> Setup {
        let db = test_db().await;
        let (jobs, redis) = match storage {
            Storage::Database => (Jobs::connect(&settings, &db).await.expect("job storage"), None),
            Storage::Redis(url) => {
                let storage = match JobStorage::connect_url(&url).await {
                    Ok(s) => s,
                    Err(e) => panic!("NETS_TEST_REDIS_URL={url} is set but Redis cannot be used: {e}"),
                };
                (Jobs::new(storage, &settings), Some(url))
            }
        };
        let mailer = Mailer::builder(&settings).database(db.db.clone()).jobs(jobs.clone()).build().expect("mailer");
        Setup { db, jobs, mailer, settings, redis }
    }

    /// Removes this test's Redis keys (others test against the same Redis).
    async fn cleanup(self) {
        let Some(url) = self.redis else { return };
        let client = redis::Client::open(url.as_str()).expect("redis URL");
        let mut conn = client.get_multiplexed_async_connection().await.expect("redis connection");
        let pattern = format!("{}:*", self.settings.jobs_queue_prefix);
        let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query_async(&mut conn).await.expect("KEYS");
        assert!(!keys.is_empty(), "the Redis storage held this test's jobs");
        let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await.expect("DEL");
    }
}

/// Waits (up to 60 s) until job `id` is in `state`; returns its status.
async fn wait_state(jobs: &Jobs, id: &JobId, state: JobState) -> JobStatus {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = jobs.status(id).await.expect("status").expect("the job is stored");
        if status.state == state {
            return status;
        }
        assert!(Instant::now() < deadline, "job {id} never reached {state:?}: {status:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn enqueue(jobs: &Jobs, n: u32, outcome: Outcome) -> JobId {
    jobs.enqueue(Task { n, outcome }).await.expect("queued")
}

async fn app_jobs_run_beside_email(storage: Storage) {
    let smtp = SmtpServer::start().await;
    let s = Setup::new(storage, settings_for(smtp.port, "")).await;
    let runs = Runs::default();
    let outcome = s.mailer.email("Beside").to("ada@example.com").html("<p>hi</p>").send().await;
    assert_eq!(outcome.reason, Reason::EmailInQueue, "{outcome:?}");
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(enqueue(&s.jobs, n, Outcome::Succeed).await);
    }
    assert_eq!(ids[0].job(), "test.task");
    let waiting = s.jobs.status(&ids[0]).await.unwrap();
    assert_eq!(waiting, Some(JobStatus { state: JobState::Waiting, attempts: 0 }), "stored, not run yet");

    let worker = s.jobs.worker().register::<SendEmail>(s.mailer.clone()).register::<Task>(runs.clone());
    assert_eq!(worker.job_types(), ["email", "test.task"]);
    let worker = worker.spawn().expect("worker starts");
    assert_eq!(smtp.wait_for(1).await[0].subject(), "Beside");
    for (n, id) in (0..).zip(&ids) {
        assert_eq!(wait_state(&s.jobs, id, JobState::Done).await.attempts, 1);
        assert_eq!(runs.of("test.task", n).len(), 1, "task {n} ran once");
    }
    let row = outcome.notification_ids[0];
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.mailer.queue_status(row).await.unwrap().is_none_or(|r| r.0 != "sent") {
        assert!(Instant::now() < deadline, "the e-mail row was never recorded as sent");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    worker.stop().await.expect("worker stops cleanly");
    s.cleanup().await;
}

async fn failing_app_jobs_are_retried_with_backoff_then_dead(storage: Storage) {
    let s = Setup::new(storage, settings_for(free_port(), "NETS_CORE_JOBS_MAX_ATTEMPTS = 3")).await;
    let runs = Runs::default();
    let failing = enqueue(&s.jobs, 1, Outcome::AlwaysFail).await;
    let refused = enqueue(&s.jobs, 2, Outcome::Refuse).await;
    let recovering = enqueue(&s.jobs, 3, Outcome::FailTimes(2)).await;
    let worker = s.jobs.worker().register::<Task>(runs.clone()).spawn().expect("worker starts");

    // Three attempts, the delays doubling from NETS_CORE_JOBS_BACKOFF_MS (50 ms), then dead.
    assert_eq!(wait_state(&s.jobs, &failing, JobState::Dead).await.attempts, 3);
    let at = runs.of("test.task", 1);
    assert_eq!(at.len(), 3, "one run per attempt");
    assert!(at[1] - at[0] >= Duration::from_millis(50), "first backoff: {:?}", at[1] - at[0]);
    assert!(at[2] - at[1] >= Duration::from_millis(100), "second backoff: {:?}", at[2] - at[1]);
    // A permanent error: dead after one attempt.
    assert_eq!(wait_state(&s.jobs, &refused, JobState::Dead).await.attempts, 1);
    assert_eq!(runs.of("test.task", 2).len(), 1);
    // Failures with attempts left: done on the third.
    assert_eq!(wait_state(&s.jobs, &recovering, JobState::Done).await.attempts, 3);

    // A job queued after them is fetched after them: once it is done, the dead jobs had
    // their chance to be fetched again, and were not.
    let after = enqueue(&s.jobs, 4, Outcome::Succeed).await;
    wait_state(&s.jobs, &after, JobState::Done).await;
    assert_eq!((runs.of("test.task", 1).len(), runs.of("test.task", 2).len()), (3, 1), "dead jobs never run again");
    worker.stop().await.unwrap();
    // Kept in the storage, dead, after the worker is gone.
    assert_eq!(s.jobs.status(&failing).await.unwrap(), Some(JobStatus { state: JobState::Dead, attempts: 3 }));
    assert_eq!(s.jobs.status(&refused).await.unwrap(), Some(JobStatus { state: JobState::Dead, attempts: 1 }));
    s.cleanup().await;
}

async fn a_job_of_an_unregistered_type_waits_for_a_worker_that_registers_it(storage: Storage) {
    let s = Setup::new(storage, settings_for(free_port(), "")).await;
    let runs = Runs::default();
    let later = s.jobs.enqueue(Later { n: 7 }).await.unwrap();
    let task = enqueue(&s.jobs, 1, Outcome::Succeed).await;
    let first = s.jobs.worker().register::<Task>(runs.clone()).spawn().expect("worker starts");
    wait_state(&s.jobs, &task, JobState::Done).await;
    first.stop().await.unwrap();
    assert_eq!(
        s.jobs.status(&later).await.unwrap(),
        Some(JobStatus { state: JobState::Waiting, attempts: 0 }),
        "neither run nor failed by a worker that does not know its type"
    );
    assert!(runs.of("test.later", 7).is_empty());

    let second = s.jobs.worker().register::<Task>(runs.clone()).register::<Later>(runs.clone()).spawn().unwrap();
    assert_eq!(wait_state(&s.jobs, &later, JobState::Done).await.attempts, 1);
    assert_eq!(runs.of("test.later", 7).len(), 1);
    second.stop().await.unwrap();
    s.cleanup().await;
}

#[tokio::test]
async fn an_app_job_type_runs_on_the_worker_that_sends_email() {
    app_jobs_run_beside_email(Storage::Database).await;
}

#[tokio::test]
async fn a_failing_app_job_is_retried_with_backoff_then_dead_and_kept() {
    failing_app_jobs_are_retried_with_backoff_then_dead(Storage::Database).await;
}

#[tokio::test]
async fn a_job_whose_type_no_worker_registered_waits_until_one_does() {
    a_job_of_an_unregistered_type_waits_for_a_worker_that_registers_it(Storage::Database).await;
}

#[tokio::test]
async fn an_app_job_type_runs_on_the_worker_that_sends_email_on_redis() {
    if let Some(redis) = redis() {
        app_jobs_run_beside_email(redis).await;
    }
}

#[tokio::test]
async fn a_failing_app_job_is_retried_with_backoff_then_dead_and_kept_on_redis() {
    if let Some(redis) = redis() {
        failing_app_jobs_are_retried_with_backoff_then_dead(redis).await;
    }
}

#[tokio::test]
async fn a_job_whose_type_no_worker_registered_waits_until_one_does_on_redis() {
    if let Some(redis) = redis() {
        a_job_of_an_unregistered_type_waits_for_a_worker_that_registers_it(redis).await;
    }
}

#[tokio::test]
async fn a_worker_needs_job_types_each_under_its_own_name() {
    let s = Setup::new(Storage::Database, settings_for(free_port(), "")).await;
    let err = s.jobs.worker().spawn().unwrap_err();
    assert!(matches!(err, JobsError::NoJobTypes), "{err}");

    let err = s.jobs.worker().register::<Task>(Runs::default()).register::<Impostor>(()).spawn().unwrap_err();
    assert_eq!(
        err.to_string(),
        "job type name 'test.task' registered twice on one worker (jobs_app::Task and jobs_app::Impostor)"
    );
    let twice = s.jobs.worker().register::<Task>(Runs::default()).register::<Task>(Runs::default());
    let err = twice.run(std::future::pending()).await.unwrap_err();
    assert!(matches!(err, JobsError::DuplicateJobType { name: "test.task", .. }), "{err}");
}

#[tokio::test]
async fn only_stored_jobs_have_a_status() {
    let s = Setup::new(Storage::Database, settings_for(free_port(), "")).await;
    let id = enqueue(&s.jobs, 1, Outcome::Succeed).await;
    let parsed: JobId = id.to_string().parse().unwrap();
    assert_eq!(s.jobs.status(&parsed).await.unwrap(), Some(JobStatus { state: JobState::Waiting, attempts: 0 }));
    let unknown: JobId = "test.task/01KB4T3S2Y8Y7J3GQ4ZC4M6N7P".parse().unwrap();
    assert_eq!(s.jobs.status(&unknown).await.unwrap(), None);
    // The id of a `test.task` job is no `test.later` job.
    let elsewhere: JobId = format!("test.later/{}", id.id()).parse().unwrap();
    assert_eq!(s.jobs.status(&elsewhere).await.unwrap(), None);
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// An idle worker looks again every `NETS_CORE_JOBS_POLL_MS`, whatever its previous look
/// ran into. apalis' interval strategy armed its next timer without registering the
/// worker's task with it, so when the timer's wake-up and the end of a fetch reached the
/// task in one poll, the worker slept until its next heartbeat: with the default 30 s, a
/// login code's e-mail came half a minute late. Forty jobs queued one after another on a
/// busy runtime, each to run well within a heartbeat (without the fix, a job in the
/// first dozen waited for the heartbeat in three runs of three).
#[tokio::test]
async fn an_idle_worker_picks_up_each_new_job_within_its_poll_not_its_heartbeat() {
    let prefix = format!("t{}", uuid::Uuid::new_v4().simple());
    let settings = nets_tests::settings(&format!(
        "EMAIL_HOST = '127.0.0.1'\nEMAIL_PORT = {}\nNETS_CORE_JOBS_QUEUE_PREFIX = '{prefix}'\n\
         NETS_CORE_JOBS_HEARTBEAT_SECONDS = 30\nNETS_CORE_JOBS_POLL_MS = 1",
        free_port()
    ));
    let s = Setup::new(Storage::Database, settings).await;
    let runs = Runs::default();
    let worker = s.jobs.worker().register::<Task>(runs.clone()).spawn().expect("worker starts");
    // On SQLite, a writer holding the write lock now and then: the worker's fetches wait
    // for it and end at times unrelated to its timer. (PostgreSQL's fetch skips locked
    // rows and waits for nothing.)
    let writer = match &s.db.db {
        nets_runtime::db::Db::Sqlite(pool) => {
            let pool = pool.clone();
            sqlx::query("CREATE TABLE busy (n INTEGER)").execute(&pool).await.unwrap();
            Some(tokio::spawn(async move {
                for n in 0i64.. {
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query("INSERT INTO busy VALUES ($1)").bind(n).execute(&mut *tx).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(n as u64 % 7 * 3)).await;
                    tx.commit().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }))
        }
        _ => None,
    };
    let mut slowest = Duration::ZERO;
    for n in 0..40 {
        let queued = Instant::now();
        enqueue(&s.jobs, n, Outcome::Succeed).await;
        while runs.of(Task::NAME, n).is_empty() {
            assert!(queued.elapsed() < Duration::from_secs(10), "job {n} not run 10 s after it was queued");
            // The runtime busy (as with requests served on its threads), so wake-ups
            // reach the worker's task together.
            std::thread::sleep(Duration::from_millis(3));
            tokio::task::yield_now().await;
        }
        slowest = slowest.max(queued.elapsed());
    }
    eprintln!("slowest of 40 jobs ran {slowest:?} after it was queued");
    if let Some(writer) = writer {
        writer.abort();
    }
    worker.stop().await.unwrap();
}
