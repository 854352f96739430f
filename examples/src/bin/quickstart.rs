//! `cargo run -p nets-examples --bin quickstart [-- --addr 127.0.0.1:8000]`
//!
//! Stores its data in `DATABASE_URL` (default: `nets.db`, an SQLite file created in the
//! current directory). `quickstart migrate` applies pending migrations and exits; the
//! server applies them itself on start-up unless `NETS_CORE_MIGRATE_ON_STARTUP=false`.
//!
//! `quickstart createapp NAME [--public]` registers an OAuth2 client application and
//! prints `{"client_id":"..","client_secret":".."}` as one JSON line: the only time the
//! secret is shown. `--redis-url`/`REDIS_URL` puts the cache in Redis.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use nets_examples::quickstart;
use nets_runtime::Settings;
use nets_runtime::cache::Cache;
use nets_runtime::db::Db;
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
    settings.debug = true;
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
        let created = OAuth::new(db.clone(), &settings)?.create_application(name, client_type).await?;
        db.close().await;
        println!("{}", serde_json::to_string(&created)?);
        return Ok(());
    }

    // Connects, and migrates when NETS_CORE_MIGRATE_ON_STARTUP is on (the default).
    let db = Db::from_settings(&settings).await?;
    let cache = Cache::from_settings(&settings).await?;
    let router = quickstart::router(settings, db, cache).map_err(|e| anyhow::anyhow!(e))?;
    println!("nets quickstart on http://{}", args.addr);
    println!("  try: curl http://{}/ping/", args.addr);
    println!("  docs: http://{}/docs/  (OpenAPI: /openapi.json)", args.addr);
    println!("  private endpoints: -H 'Authorization: Bearer {}'", quickstart::DEMO_TOKEN);
    nets_runtime::serve(router, args.addr).await?;
    Ok(())
}
