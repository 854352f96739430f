//! `cargo run -p nets-examples --bin quickstart [-- --addr 127.0.0.1:8000]`
//!
//! Stores its data in `DATABASE_URL` (default: `nets.db`, an SQLite file created in the
//! current directory). `quickstart migrate` applies pending migrations and exits; the
//! server applies them itself on start-up unless `NETS_CORE_MIGRATE_ON_STARTUP=false`.
//!
//! `quickstart createapp NAME [--public]` registers an OAuth2 client application and
//! prints `{"client_id":"..","client_secret":".."}` as one JSON line: the only time the
//! secret is shown. `--redis-url`/`REDIS_URL` puts the cache in Redis.
//! `NETS_CORE_TOKEN_CACHE_SECONDS=30` answers a bearer token seen in the last 30 s from
//! memory (logouts and revocations still apply to the next request).
//!
//! Background jobs (queued e-mails) run in the server process unless
//! `NETS_CORE_JOBS_IN_SERVER=false`; `quickstart worker` runs a worker on its own (start
//! as many as you like, on any machine sharing the job storage). `quickstart email ...`
//! lists queued, failed and dead e-mails, retries them and queues bulk sends.

use std::net::SocketAddr;

use clap::{Parser, Subcommand, ValueEnum};
use nets_examples::quickstart;
use nets_runtime::Settings;
use nets_runtime::cache::Cache;
use nets_runtime::db::Db;
use nets_runtime::jobs::Jobs;
use nets_runtime::mail::{Mailer, QueueFilter};
use nets_runtime::oauth::{ClientType, OAuth};

/// The nets quickstart server.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "NETS_ADDR", default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    /// Database (`sqlite://nets.db?mode=rwc`, `postgres://user@host/db`); default: the
    /// settings' `DATABASE_URL`.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Redis for the cache (`redis://127.0.0.1:6379`); default: in memory.
    #[arg(long, env = "REDIS_URL")]
    redis_url: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending migrations, then exit.
    Migrate,
    /// Register an OAuth2 client application and print its id and secret as JSON.
    #[command(alias = "create-application")]
    Createapp {
        /// The application's name.
        name: String,
        /// A public client (mobile or browser app): no secret.
        #[arg(long)]
        public: bool,
    },
    /// Run a background-job worker until Ctrl-C (no HTTP server).
    Worker,
    /// Operate the e-mail queue.
    #[command(subcommand)]
    Email(EmailCommand),
}

#[derive(Subcommand)]
enum EmailCommand {
    /// List queued e-mails by status.
    List {
        /// Which e-mails.
        #[arg(long, value_enum, default_value = "queued")]
        status: Status,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Send failed or dead e-mails again.
    Retry {
        /// Row ids (`email list` shows them).
        ids: Vec<i64>,
        /// Every dead e-mail.
        #[arg(long)]
        dead: bool,
    },
    /// Queue a `nets_custom_email` (a newsletter) to its recipients, with progress.
    SendCustom {
        /// The custom e-mail's id.
        id: i64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Status {
    Queued,
    Failed,
    Dead,
    Sent,
}

impl From<Status> for QueueFilter {
    fn from(s: Status) -> Self {
        match s {
            Status::Queued => QueueFilter::Queued,
            Status::Failed => QueueFilter::Failed,
            Status::Dead => QueueFilter::Dead,
            Status::Sent => QueueFilter::Sent,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr: stdout carries command output (`createapp`'s JSON line).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let mut settings = Settings::load()?;
    // The example runs in DEBUG unless told otherwise (`DEBUG=false`): it needs no mail
    // server and logs in with the fixed code, on 127.0.0.1 only (see `serve_with`).
    if std::env::var_os("DEBUG").is_none() {
        settings.debug = true;
    }
    if let Some(url) = args.database_url {
        settings.database_url = url;
    }
    if let Some(url) = args.redis_url {
        settings.redis_url = Some(url);
    }
    if settings.secret_key.as_ref().is_none_or(|k| k.expose().is_empty()) {
        tracing::warn!("SECRET_KEY is not set: using the quickstart's development key");
        settings.secret_key = Some(quickstart::DEVELOPMENT_SECRET_KEY.into());
    }

    if let Some(Command::Migrate) = args.command {
        let db = Db::connect(&settings.database_url, settings.database_max_connections).await?;
        db.migrate().await?;
        db.close().await;
        println!("migrations applied");
        return Ok(());
    }

    if let Some(Command::Createapp { name, public }) = &args.command {
        let db = Db::from_settings(&settings).await?;
        let client_type = if *public { ClientType::Public } else { ClientType::Confidential };
        let created = OAuth::from_settings(&settings, &db).await?.create_application(name, client_type).await?;
        db.close().await;
        println!("{}", serde_json::to_string(&created)?);
        return Ok(());
    }

    // Connects, and migrates when NETS_CORE_MIGRATE_ON_STARTUP is on (the default).
    let db = Db::from_settings(&settings).await?;
    let cache = Cache::from_settings(&settings).await?;
    let jobs = Jobs::connect(&settings, &db).await?;
    let mailer = Mailer::builder(&settings).database(db.clone()).jobs(jobs.clone()).build()?;

    if let Some(Command::Email(command)) = args.command {
        return email(command, &mailer).await;
    }
    let serve_options = nets_runtime::ServeOptions::from_settings(&settings);
    let (debug, jobs_in_server) = (settings.debug, settings.jobs_in_server);
    let app = quickstart::app(settings, db, cache, Some(mailer)).await.map_err(|e| anyhow::anyhow!(e))?;
    if let Some(Command::Worker) = args.command {
        // Every job type the installed modules registered (e-mail here).
        println!("nets worker: running jobs until Ctrl-C");
        app.worker(&jobs)
            .run(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        return Ok(());
    }
    let worker = jobs_in_server.then(|| app.worker(&jobs).spawn()).transpose()?;
    let router = app.router();
    println!("nets quickstart on http://{}", args.addr);
    println!("  try: curl http://{}/ping/", args.addr);
    println!("  docs: http://{}/docs/  (OpenAPI: /openapi.json)", args.addr);
    if debug {
        println!("  private endpoints: -H 'Authorization: Bearer {}' (DEBUG only)", quickstart::DEMO_TOKEN);
        println!("  log in: POST /login/ {{\"email\": ..}}, then /authenticate/ with code 123456 (DEBUG)");
    }
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    nets_runtime::serve_with(listener, router, serve_options, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    if let Some(worker) = worker {
        worker.stop().await?; // jobs in flight finish first
    }
    Ok(())
}

async fn email(command: EmailCommand, mailer: &Mailer) -> anyhow::Result<()> {
    match command {
        EmailCommand::List { status, limit } => {
            let rows = mailer.queue(status.into(), limit).await?;
            println!(
                "{:>8}  {:<8} {:>8}  {:<24} {:<32} subject / last error",
                "id", "status", "attempts", "created", "to"
            );
            for r in &rows {
                let error = r.last_error.as_deref().map(|e| format!(" / {e}")).unwrap_or_default();
                println!(
                    "{:>8}  {:<8} {:>8}  {:<24} {:<32} {}{error}",
                    r.id, r.status, r.attempts, r.created, r.recipients, r.subject
                );
            }
            println!("{} e-mail(s)", rows.len());
        }
        EmailCommand::Retry { mut ids, dead } => {
            if dead {
                ids.extend(mailer.queue(QueueFilter::Dead, i64::MAX).await?.into_iter().map(|r| r.id));
            }
            for id in ids {
                let queued = mailer.retry(id).await?;
                println!("{id}: {}", if queued { "queued again" } else { "not failed: left alone" });
            }
        }
        EmailCommand::SendCustom { id } => {
            let done = mailer
                .queue_custom_email(id, |p| println!("queued {}/{} ({} dropped)", p.processed, p.total, p.dropped))
                .await?;
            println!("{} message(s) queued, {} recipient(s) dropped; workers send them", done.queued, done.dropped);
        }
    }
    Ok(())
}
