//! `cargo run -p nets-examples --bin projects [-- --addr 127.0.0.1:8001]`: the
//! multi-project roles example (see `nets_examples::projects`), with nets' management
//! commands (`projects --help`).
//!
//! `cargo run -p nets-examples --bin projects -- demo` walks through it in-process and
//! prints each request with its answer (403s and 404s included), on a throw-away database.
//!
//! Stores its data in `DATABASE_URL` (default here: `projects.db`, an SQLite file in the
//! current directory).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nets_examples::projects;
use nets_runtime::Settings;
use nets_runtime::cli::{Cli, Command, Manage, init_logging};
use nets_runtime::db::Db;

/// The nets multi-project roles example.
#[derive(Parser)]
struct Args {
    /// Database URL; default: `sqlite://projects.db?mode=rwc`.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Address `serve` listens on.
    #[arg(long, global = true, env = "NETS_ADDR", default_value = "127.0.0.1:8001")]
    addr: std::net::SocketAddr,
    #[command(subcommand)]
    command: Option<Commands>,
}

/// nets' commands, and this example's walkthrough: an app embeds `Command` in its own
/// parser.
#[derive(Subcommand)]
enum Commands {
    /// Run the walkthrough in-process on a temporary database and print every answer.
    Demo,
    #[command(flatten)]
    Nets(Command),
}

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let args = Args::parse();
    let settings = match Settings::load() {
        Ok(settings) => projects::settings(settings),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = match args.command {
        Some(Commands::Demo) => return demo(settings).await,
        Some(Commands::Nets(command)) => Some(command),
        None => None,
    };
    let mut settings = settings;
    // Like the quickstart, the example runs in DEBUG unless told otherwise (`DEBUG=false`):
    // e-mail to the console, no SECRET_KEY needed, 127.0.0.1 only.
    if std::env::var_os("DEBUG").is_none() {
        settings.debug = true;
    }
    if std::env::var_os("DATABASE_URL").is_none() {
        settings.database_url = "sqlite://projects.db?mode=rwc".into();
    }
    if command.is_none() {
        println!("  users: ada-token, bob-token, cy-token (Authorization: Bearer <token>)");
        println!(
            "  try:   curl -X POST -H 'Authorization: Bearer ada-token' -d name=Apollo http://{}/projects/",
            args.addr
        );
    }
    let cli = Cli { database_url: args.database_url, addr: args.addr, command };
    Manage::new(projects::customise).settings(settings).migrations(&projects::MIGRATIONS).run_cli(cli).await
}

/// The walkthrough, on a database of its own that is removed afterwards.
async fn demo(settings: Settings) -> ExitCode {
    let file = std::env::temp_dir().join(format!("nets-projects-demo-{}.db", std::process::id()));
    let result = async {
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", file.display()), 4).await?;
        projects::prepare(&db).await?;
        for step in projects::demo(projects::router(settings, db).await?).await {
            println!("{:>4} {:<6} {:<38} -> {} {}", step.who, step.method, step.path, step.status, step.body);
        }
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    }
    .await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
