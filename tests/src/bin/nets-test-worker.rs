//! A worker process for the crash tests (`tests/tests/jobs_crash.rs`): what
//! `quickstart worker` does, configured from the environment (`DATABASE_URL`,
//! `EMAIL_*`, `NETS_CORE_JOBS_*`), running until killed. It runs the e-mail job and an
//! application job type, [`RecordRun`].

use nets_runtime::Settings;
use nets_runtime::db::Db;
use nets_runtime::jobs::Jobs;
use nets_runtime::mail::{Mailer, SendEmail};
use nets_tests::jobs::RecordRun;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let settings = Settings::load()?;
    let db = Db::connect(&settings.database_url, 4).await?;
    let jobs = Jobs::connect(&settings, &db).await?;
    let mailer = Mailer::builder(&settings).database(db.clone()).jobs(jobs.clone()).build()?;
    println!("worker ready");
    jobs.worker().register::<SendEmail>(mailer).register::<RecordRun>(db).run(std::future::pending()).await?;
    Ok(())
}
