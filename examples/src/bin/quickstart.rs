//! `cargo run -p nets-examples --bin quickstart [-- --addr 127.0.0.1:8000]`
//!
//! Stores its data in `DATABASE_URL` (default: `nets.db`, an SQLite file created in the
//! current directory). `quickstart migrate` applies pending migrations and exits; the
//! server applies them itself on start-up unless `NETS_CORE_MIGRATE_ON_STARTUP=false`.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use nets_examples::quickstart;
use nets_runtime::Settings;
use nets_runtime::db::Db;

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
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending migrations, then exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let mut settings = Settings::load()?;
    settings.debug = true;
    if let Some(url) = args.database_url {
        settings.database_url = url;
    }

    if let Some(Command::Migrate) = args.command {
        let db = Db::connect(&settings.database_url, settings.database_max_connections).await?;
        db.migrate().await?;
        db.close().await;
        println!("migrations applied");
        return Ok(());
    }

    // Connects, and migrates when NETS_CORE_MIGRATE_ON_STARTUP is on (the default).
    let db = Db::from_settings(&settings).await?;
    let router = quickstart::router(settings, db)?;
    println!("nets quickstart on http://{}", args.addr);
    println!("  try: curl http://{}/ping/", args.addr);
    println!("  docs: http://{}/docs/  (OpenAPI: /openapi.json)", args.addr);
    println!("  private endpoints: -H 'Authorization: Bearer {}'", quickstart::DEMO_TOKEN);
    nets_runtime::serve(router, args.addr).await?;
    Ok(())
}
