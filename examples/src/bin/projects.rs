//! `cargo run -p nets-examples --bin projects [-- --addr 127.0.0.1:8001]`: the
//! multi-project roles example (see `nets_examples::projects`).
//!
//! `cargo run -p nets-examples --bin projects -- demo` walks through it in-process and
//! prints each request with its answer (403s and 404s included), on a throw-away database.
//!
//! Stores its data in `--database-url` (default: `projects.db`, an SQLite file in the
//! current directory).

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use nets_examples::projects;
use nets_runtime::Settings;
use nets_runtime::db::Db;

/// The nets multi-project roles example.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8001")]
    addr: SocketAddr,
    /// SQLite database of the example.
    #[arg(long, default_value = "sqlite://projects.db?mode=rwc")]
    database_url: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Run the walkthrough in-process on a temporary database and print every answer.
    Demo,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    let args = Args::parse();
    let settings = Settings::load()?;

    if let Some(Command::Demo) = args.command {
        let file = std::env::temp_dir().join(format!("nets-projects-demo-{}.db", std::process::id()));
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", file.display()), 4).await?;
        projects::prepare(&db).await?;
        for step in projects::demo(projects::router(settings, db).await?).await {
            println!("{:>4} {:<6} {:<38} -> {} {}", step.who, step.method, step.path, step.status, step.body);
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        return Ok(());
    }

    let db = Db::connect(&args.database_url, settings.database_max_connections).await?;
    projects::prepare(&db).await?;
    let router = projects::router(settings, db).await?;
    println!("nets projects example on http://{}", args.addr);
    println!("  users: ada-token, bob-token, cy-token (Authorization: Bearer <token>)");
    println!(
        "  try:   curl -X POST -H 'Authorization: Bearer ada-token' -d name=Apollo http://{}/projects/",
        args.addr
    );
    println!("  docs:  http://{}/docs/", args.addr);
    nets_runtime::serve(router, args.addr).await?;
    Ok(())
}
