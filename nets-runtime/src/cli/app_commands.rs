//! The commands that run the built app (`serve`, `worker`, `routes`, `openapi`) and
//! `migrate`, which runs before anything else is connected.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use sqlx::migrate::Migrator;

use super::BoxError;
use super::progress::Progress;
use crate::db::Db;
use crate::jobs::Jobs;
use crate::routing::Endpoint;
use crate::{App, Settings};

/// `serve`: until Ctrl-C or SIGTERM, then shuts the app down ([`App::serve_until`]:
/// requests, modules' shutdown steps, the background work requests started), then the
/// in-process worker.
pub(super) async fn serve(app: App, jobs: Jobs, addr: SocketAddr) -> Result<ExitCode, BoxError> {
    let worker = app.settings().jobs_in_server.then(|| app.worker(&jobs).spawn()).transpose()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("serving on http://{} (docs: /docs/, OpenAPI: /openapi.json)", listener.local_addr()?);
    app.serve_until(listener, crate::shutdown_signal()).await?;
    if let Some(worker) = worker {
        worker.stop().await?;
    }
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// `worker`: runs jobs until Ctrl-C or SIGTERM.
pub(super) async fn worker(app: App, jobs: Jobs) -> Result<ExitCode, BoxError> {
    eprintln!("worker: running jobs until Ctrl-C");
    app.worker(&jobs).run(crate::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// `routes [--json] [--public]`.
pub(super) fn routes(app: &App, json: bool, public: bool) -> Result<ExitCode, BoxError> {
    let routes: Vec<RouteRow> = app.endpoints().filter(|e| !public || e.public).map(RouteRow::of).collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&routes)?);
    } else {
        print_routes(&routes);
    }
    Ok(ExitCode::SUCCESS)
}

/// `openapi [--out FILE]`.
pub(super) fn openapi(app: &App, out: Option<PathBuf>) -> Result<ExitCode, BoxError> {
    let text = crate::openapi::to_json(&app.openapi(), true);
    match out {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => println!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// One endpoint as `routes` shows it.
#[derive(Serialize)]
struct RouteRow {
    methods: Vec<&'static str>,
    path: String,
    name: &'static str,
    /// `public`, or `authenticated`.
    access: &'static str,
    can_do: &'static [&'static str],
    perm_required: bool,
    /// The parameter naming the project the permission is checked in.
    project: Option<&'static str>,
    model: Option<&'static str>,
    public_objects: bool,
    handler: String,
    location: String,
}

impl RouteRow {
    fn of(e: &'static Endpoint) -> RouteRow {
        RouteRow {
            methods: e.methods().iter().map(|m| m.as_str()).collect(),
            path: e.route_path(),
            name: e.name,
            access: if e.public { "public" } else { "authenticated" },
            can_do: e.can_do,
            perm_required: e.perm_required,
            project: e.project,
            model: e.model.as_ref().map(|m| m.type_name),
            public_objects: e.public_objects,
            handler: format!("{}::{}", e.module_path, e.function),
            location: format!("{}:{}", e.file, e.line),
        }
    }

    /// `public`, `authenticated`, `can_do a, b (403)`, `model Invoice (owner)`, ...
    fn rule(&self) -> String {
        let mut rule = self.access.to_owned();
        if !self.can_do.is_empty() {
            let outcome = if self.perm_required { "403 otherwise" } else { "soft" };
            rule.push_str(&format!("; can_do {} ({outcome})", self.can_do.join(", ")));
        }
        if let Some(project) = self.project {
            rule.push_str(&format!("; in project {project}"));
        }
        if let Some(model) = self.model {
            let who = if self.public_objects { "any object" } else { "owner only" };
            rule.push_str(&format!("; model {model} ({who})"));
        }
        rule
    }
}

fn print_routes(routes: &[RouteRow]) {
    let rows: Vec<[String; 5]> = routes
        .iter()
        .map(|r| [r.methods.join(","), r.path.clone(), r.name.to_owned(), r.rule(), r.location.clone()])
        .collect();
    let header = ["METHODS", "PATH", "NAME", "ACCESS", "SOURCE"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        println!("{}", cells.join("  ").trim_end());
    }
    eprintln!("{} endpoint(s)", rows.len());
}

/// `migrate`: applies nets' migrations and the app's, or with `check` lists what is
/// pending and fails when anything is.
pub(super) async fn migrate(
    settings: &Settings,
    migrations: Option<&Migrator>,
    check: bool,
) -> Result<ExitCode, BoxError> {
    let db = Db::connect(&settings.database_url, settings.database_max_connections).await?;
    let result = async {
        if check {
            let pending = db.pending_migrations(migrations).await?;
            for migration in &pending {
                println!("pending: {} {} ({})", migration.version, migration.description, migration.set);
            }
            if pending.is_empty() {
                println!("no pending migrations");
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("{} pending migration(s): run `migrate`", pending.len());
            return Ok(ExitCode::FAILURE);
        }
        let progress = Progress::spinner("applying nets' migrations");
        db.migrate().await?;
        if let Some(migrations) = migrations {
            progress.step("applying the app's migrations");
            db.migrate_app(migrations).await?;
        }
        progress.finish();
        println!("migrations applied");
        Ok::<_, BoxError>(ExitCode::SUCCESS)
    }
    .await;
    db.close().await;
    result
}
