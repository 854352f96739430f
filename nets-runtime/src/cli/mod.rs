//! The management commands every nets app gets: `manage.py` for nets.
//!
//! An app's `main` hands its own part (routes, state, job types, its own authenticator)
//! to [`Manage`]; everything else comes from the settings through [`Stack`]:
//!
//! ```no_run
//! use nets_runtime::prelude::*;
//!
//! #[request_handler(path = "hello/", method = GET, public)]
//! async fn hello() -> ApiResult<&'static str> {
//!     Ok("hi")
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     nets_runtime::cli::Manage::new(async |app| Ok(app.routes(build_urlpatterns!(self)?))).run().await
//! }
//! ```
//!
//! `myapp` (or `myapp serve`, `--addr ..`) serves, `myapp migrate --check` reports pending
//! migrations, `myapp routes --public` audits what is reachable anonymously, and so on:
//! `myapp --help` lists them all. Output meant for scripts goes to stdout (`--json`
//! where a table is the default), logs to stderr; failures print one `error: ..` line
//! and exit with status 1, never a panic.

mod admin;
mod app_commands;
mod check;
mod email;
mod import;
mod init;
mod progress;
#[cfg(feature = "push")]
mod push;
mod queue;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sqlx::migrate::Migrator;

use crate::jobs::Jobs;
use crate::stack::Stack;
use crate::{App, AppBuilder, Settings};

pub use admin::{PermsCommand, RolesCommand, UsersCommand};
pub use email::EmailCommand;
#[cfg(feature = "push")]
pub use push::PushCommand;
pub use queue::{ListArgs, RetryArgs, Status};

/// An error a command reports (one line on stderr, exit status 1).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The command line of a nets app. Embed it in your own clap parser with
/// `#[command(flatten)]`, then call [`Manage::run_cli`].
#[derive(Debug, Parser)]
#[command(about = "A nets application", long_about = None)]
pub struct Cli {
    /// Database URL (`sqlite://app.db?mode=rwc`, `postgres://user@host/db`); default:
    /// DATABASE_URL from the settings.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// Address `serve` listens on.
    #[arg(long, global = true, env = "NETS_ADDR", default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The management commands.
#[derive(Debug, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Serve the API (the default), with the background-job worker in-process unless
    /// NETS_CORE_JOBS_IN_SERVER=false; Ctrl-C drains requests, background work and jobs.
    Serve,
    /// Apply pending migrations (nets' and the app's), then exit.
    Migrate {
        /// Apply nothing: list pending migrations and exit 1 when there are any.
        #[arg(long)]
        check: bool,
    },
    /// Run a background-job worker until Ctrl-C (no HTTP server).
    Worker,
    /// Register an OAuth2 client application; prints {"client_id":..,"client_secret":..}.
    #[command(alias = "create-application")]
    Createapp {
        /// The application's name.
        name: String,
        /// A public client (mobile or browser app): no secret.
        #[arg(long)]
        public: bool,
        /// Keep this client id (an app already deployed with it) instead of a new one.
        #[arg(long)]
        client_id: Option<String>,
        /// With --client-id, of a confidential client: its existing secret, stored as a
        /// digest (prefer the environment variable to the command line).
        #[arg(long, env = "NETS_CLIENT_SECRET", hide_env_values = true)]
        client_secret: Option<String>,
    },
    /// Create a superuser, or make an existing user one (asks for the address on a terminal).
    Createsuperuser {
        /// The superuser's e-mail address.
        #[arg(long)]
        email: Option<String>,
        /// A username (with NETS_CORE_USER_IDENTIFIER = "username").
        #[arg(long)]
        username: Option<String>,
    },
    /// List, deactivate or reactivate users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// List roles; grant a role to a user or revoke it, globally or in a project.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// List permissions; grant one to a role or revoke it.
    #[command(subcommand)]
    Perms(PermsCommand),
    /// Operate the e-mail queue.
    #[command(subcommand)]
    Email(EmailCommand),
    /// Send test pushes (the original's test_push_notification); list and retry deliveries.
    #[cfg(feature = "push")]
    #[command(subcommand)]
    Push(PushCommand),
    /// Every endpoint served, with its methods, access rule and source location.
    Routes {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// Only what anonymous callers reach.
        #[arg(long)]
        public: bool,
    },
    /// Print the OpenAPI document (or write it to a file) without serving.
    Openapi {
        /// Write it here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Import a django-nets-core 0.2.30 database (users, devices, OAuth applications,
    /// roles, permissions, grants, memberships, e-mail templates). A dry run unless
    /// --apply; safe to run again; the Django database is only read.
    ImportDjango {
        /// The Django database: sqlite:///path/db.sqlite3 or postgres://user@host/db.
        #[arg(long)]
        from: String,
        /// Django's AUTH_USER_MODEL table.
        #[arg(long, default_value = "auth_user")]
        user_table: String,
        /// Also import unexpired access and refresh tokens (as digests): users stay logged in.
        #[arg(long)]
        with_tokens: bool,
        /// Write (default: report what would be written, and write nothing).
        #[arg(long)]
        apply: bool,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check the configuration as `serve` would use it (secret key, DEBUG exposure,
    /// database and migrations, Redis, SMTP login, CORS, proxies, user table, `can_do`
    /// names); prints each problem with its fix, exits 1 on errors.
    Check {
        /// One JSON object ({"ok":..,"findings":[..]}) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Write a commented nets.toml (NETS_CONFIG, else ./nets.toml) listing every setting
    /// with its default, environment variable and meaning.
    Init {
        /// Replace an existing file, keeping it as NAME.TIMESTAMP.bak.
        #[arg(long)]
        force: bool,
    },
}

/// Runs the management commands of an app: `build` adds the app's own part to the
/// [`Stack`]'s builder (routes, state, job types, its own authenticator, ...).
pub struct Manage<F> {
    build: F,
    settings: Option<Settings>,
    migrations: Option<&'static Migrator>,
}

impl<F> Manage<F>
where
    F: AsyncFnOnce(AppBuilder) -> Result<AppBuilder, BoxError>,
{
    /// The commands for the app `build` completes.
    pub fn new(build: F) -> Manage<F> {
        Manage { build, settings: None, migrations: None }
    }

    /// Uses `settings` instead of [`Settings::load`] (an example that defaults to DEBUG).
    pub fn settings(mut self, settings: Settings) -> Manage<F> {
        self.settings = Some(settings);
        self
    }

    /// The app's own migrations (`static MIGRATIONS: Migrator =
    /// sqlx::migrate!("./migrations")`), applied after nets' by `migrate` and at start-up.
    pub fn migrations(mut self, migrations: &'static Migrator) -> Manage<F> {
        self.migrations = Some(migrations);
        self
    }

    /// Parses the process arguments and runs the command.
    pub async fn run(self) -> ExitCode {
        init_logging();
        self.run_cli(Cli::parse()).await
    }

    /// Runs an already parsed command line (yours embeds [`Cli`]).
    pub async fn run_cli(self, cli: Cli) -> ExitCode {
        match self.dispatch(cli).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    }

    async fn dispatch(self, cli: Cli) -> Result<ExitCode, BoxError> {
        let Manage { build, settings, migrations } = self;
        // Loaded by the commands that need settings (`init` must run on a broken file).
        let settings = move || -> Result<Settings, BoxError> {
            let mut settings = match settings {
                Some(settings) => settings,
                None => Settings::load()?,
            };
            if let Some(url) = cli.database_url {
                settings.database_url = url;
            }
            Ok(settings)
        };
        let stack = async |settings: Settings| -> Result<Stack, BoxError> {
            Ok(match migrations {
                Some(migrations) => Stack::with_migrations(settings, migrations).await?,
                None => Stack::from_settings(settings).await?,
            })
        };
        // The app the commands below serve or describe: the stack plus the app's own part.
        let app = async |settings: Settings| -> Result<(App, Jobs), BoxError> {
            let stack = stack(settings).await?;
            let jobs = stack.jobs.clone();
            Ok((build(stack.app()).await?.build()?, jobs))
        };
        match cli.command.unwrap_or(Command::Serve) {
            Command::Init { force } => init::run(&Settings::config_path(), force),
            Command::Check { json } => check::run(&settings()?, migrations, app, cli.addr, json).await,
            Command::Migrate { check } => app_commands::migrate(&settings()?, migrations, check).await,
            Command::Createapp { name, public, client_id, client_secret } => {
                admin::createapp(&stack(settings()?).await?, &name, public, client_id, client_secret).await
            }
            Command::Createsuperuser { email, username } => {
                admin::createsuperuser(&stack(settings()?).await?, email, username).await
            }
            Command::Users(command) => admin::users(&stack(settings()?).await?, command).await,
            Command::Roles(command) => admin::roles(&stack(settings()?).await?, command).await,
            Command::Perms(command) => admin::perms(&stack(settings()?).await?, command).await,
            Command::Email(command) => email::run(&stack(settings()?).await?, command).await,
            #[cfg(feature = "push")]
            Command::Push(command) => push::run(stack(settings()?).await?.push.as_ref(), command).await,
            Command::Serve => {
                let (app, jobs) = app(settings()?).await?;
                app_commands::serve(app, jobs, cli.addr).await
            }
            Command::Worker => {
                let (app, jobs) = app(settings()?).await?;
                app_commands::worker(app, jobs).await
            }
            Command::ImportDjango { from, user_table, with_tokens, apply, json } => {
                let options = crate::django_import::Options::new(from)
                    .user_table(user_table)
                    .with_tokens(with_tokens)
                    .apply(apply);
                import::run(&stack(settings()?).await?, options, json).await
            }
            Command::Routes { json, public } => app_commands::routes(&app(settings()?).await?.0, json, public),
            Command::Openapi { out } => app_commands::openapi(&app(settings()?).await?.0, out),
        }
    }
}

/// Logs to stderr (stdout carries command output), at `RUST_LOG` or `info`. Leaves an
/// already installed subscriber alone ([`Manage::run`] calls it; call it earlier to see
/// what happens before).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter).try_init();
}
