//! A job type of the test application, run by worker processes (`nets-test-worker`) and
//! checked by the tests that kill them: each run waits a while (so runs are in flight
//! when a worker dies), then records itself in `test_job_runs`.

use std::time::Duration;

use nets_runtime::db::Db;
use nets_runtime::jobs::{Job, JobError};
use serde::{Deserialize, Serialize};

/// The table [`RecordRun`] writes to; create it with [`create_runs_table`].
pub const RUNS_TABLE: &str = "test_job_runs";

/// Waits `millis`, then inserts `n` into `test_job_runs`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordRun {
    /// What the run records.
    pub n: i64,
    /// How long the run takes before recording.
    pub millis: u64,
}

impl Job for RecordRun {
    const NAME: &'static str = "test.record_run";
    type Context = Db;

    async fn run(&self, db: &Db) -> Result<(), JobError> {
        tokio::time::sleep(Duration::from_millis(self.millis)).await;
        let done = match db {
            Db::Sqlite(pool) => {
                sqlx::query("INSERT INTO test_job_runs (n) VALUES (?1)").bind(self.n).execute(pool).await.map(drop)
            }
            Db::Postgres(pool) => {
                sqlx::query("INSERT INTO test_job_runs (n) VALUES ($1)").bind(self.n).execute(pool).await.map(drop)
            }
        };
        done.map_err(JobError::retry)
    }
}

/// Creates `test_job_runs`.
pub async fn create_runs_table(db: &Db) {
    crate::db::exec(db, "CREATE TABLE test_job_runs (n BIGINT NOT NULL)").await;
}

/// Every recorded run's `n`, in no particular order.
pub async fn recorded_runs(db: &Db) -> Vec<i64> {
    let runs = match db {
        Db::Sqlite(pool) => sqlx::query_scalar("SELECT n FROM test_job_runs").fetch_all(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar("SELECT n FROM test_job_runs").fetch_all(pool).await,
    };
    runs.unwrap_or_else(|e| panic!("reading test_job_runs: {e}"))
}
