//! `check`: the configuration problems a deployment would otherwise discover in
//! production, each reported with its fix (the original's `nets-settings` check mode,
//! which looked for Django boilerplate and always exited 0).
//!
//! Every check runs, so one run lists every problem; errors make the exit status 1,
//! warnings do not. Checks that need the database are skipped (and say so) when it
//! cannot be reached or is not migrated.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;
use sqlx::migrate::Migrator;

use super::BoxError;
use crate::db::Db;
use crate::jobs::Jobs;
use crate::keys::{MissingSecretKey, SecretKey};
use crate::mail::Transport;
use crate::{App, Settings};

/// How long one network check (database, Redis, SMTP) may take.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(10);

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Severity {
    /// The app will fail, or is unsafe: exit status 1.
    Error,
    /// Probably wrong; the app runs.
    Warning,
}

/// One problem, with the setting it concerns and how to fix it.
#[derive(Debug, Serialize)]
struct Finding {
    severity: Severity,
    setting: &'static str,
    problem: String,
    fix: String,
}

/// The findings of one run.
#[derive(Default)]
struct Report(Vec<Finding>);

impl Report {
    fn error(&mut self, setting: &'static str, problem: impl Into<String>, fix: impl Into<String>) {
        self.0.push(Finding { severity: Severity::Error, setting, problem: problem.into(), fix: fix.into() });
    }

    fn warning(&mut self, setting: &'static str, problem: impl Into<String>, fix: impl Into<String>) {
        self.0.push(Finding { severity: Severity::Warning, setting, problem: problem.into(), fix: fix.into() });
    }

    fn count(&self, severity: Severity) -> usize {
        self.0.iter().filter(|f| f.severity == severity).count()
    }
}

/// Runs every check against `settings` as `serve` would use them on `addr`, on the app
/// `app` assembles.
pub(super) async fn run(
    settings: &Settings,
    migrations: Option<&Migrator>,
    app: impl AsyncFnOnce(Settings) -> Result<(App, Jobs), BoxError>,
    addr: SocketAddr,
    json: bool,
) -> Result<ExitCode, BoxError> {
    let mut report = Report::default();
    secret_key(settings, &mut report);
    bind_address(settings, addr, &mut report);
    cors(settings, &mut report);
    proxies(settings, addr, &mut report);
    mail(settings, &mut report).await;
    #[cfg(feature = "push")]
    push(settings, &mut report);
    #[cfg(feature = "social")]
    social(settings, &mut report);
    redis(settings, &mut report).await;
    database(settings, migrations, app, &mut report).await;

    let errors = report.count(Severity::Error);
    if json {
        let body = serde_json::json!({"ok": errors == 0, "findings": report.0});
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else {
        for finding in &report.0 {
            let label = match finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            println!("{label}: [{}] {}\n    fix: {}", finding.setting, finding.problem, finding.fix);
        }
        match (errors, report.count(Severity::Warning)) {
            (0, 0) => println!("no problems found"),
            (errors, warnings) => println!("{errors} error(s), {warnings} warning(s)"),
        }
    }
    Ok(if errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn secret_key(settings: &Settings, report: &mut Report) {
    let fix = "set SECRET_KEY (environment or nets.toml) to at least 32 random bytes, e.g. the output of \
               `openssl rand -base64 48`, the same on every instance";
    match SecretKey::from_settings(settings) {
        Ok(_) => {}
        Err(MissingSecretKey::Missing) => {
            report.error("SECRET_KEY", "not set outside DEBUG: the server cannot digest tokens or codes", fix)
        }
        Err(e) => report.error("SECRET_KEY", e.to_string(), fix),
    }
}

fn bind_address(settings: &Settings, addr: SocketAddr, report: &mut Report) {
    if settings.fixed_debug_code_live() && !addr.ip().is_loopback() {
        report.error(
            "DEBUG",
            format!(
                "DEBUG on a non-loopback address ({addr}): every login accepts the fixed code \
                 NETS_CORE_DEBUG_VERIFICATION_CODE, so anyone who reaches the server can log in as anyone"
            ),
            "set DEBUG=false in production, or listen on 127.0.0.1 (--addr / NETS_ADDR)",
        );
    }
}

fn cors(settings: &Settings, report: &mut Report) {
    if settings.cors_allow_all_origins && settings.cors_allow_credentials {
        report.error(
            "CORS_ALLOW_CREDENTIALS",
            "CORS_ALLOW_ALL_ORIGINS with credentials: browsers refuse credentials with a wildcard origin, \
             so nets ignores CORS_ALLOW_CREDENTIALS and cross-origin calls with cookies or Authorization fail",
            "list the sites in CORS_ALLOWED_ORIGINS instead of CORS_ALLOW_ALL_ORIGINS",
        );
    }
    for origin in &settings.cors_allowed_origins {
        if http::HeaderValue::from_str(origin).is_err() || !origin.contains("://") {
            report.warning(
                "CORS_ALLOWED_ORIGINS",
                format!("'{origin}' is not an origin (scheme://host[:port]), so it allows nothing"),
                "write origins as browsers send them, e.g. 'https://app.example.com'",
            );
        }
    }
}

fn proxies(settings: &Settings, addr: SocketAddr, report: &mut Report) {
    if let Some(all) = settings.trusted_proxies.iter().find(|p| p.trim().ends_with("/0")) {
        report.error(
            "NETS_CORE_TRUSTED_PROXIES",
            format!(
                "'{all}' trusts every address: any client can forge X-Forwarded-For and escape the per-IP rate limits"
            ),
            "list only your reverse proxies' addresses or ranges",
        );
    }
    // Outside DEBUG a loopback listener is reached through a reverse proxy on the same
    // host; without trusting it, every client has the proxy's address.
    if !settings.debug && addr.ip().is_loopback() && settings.trusted_proxies.is_empty() {
        report.warning(
            "NETS_CORE_TRUSTED_PROXIES",
            format!(
                "serving on {addr} outside DEBUG (behind a reverse proxy?) with no trusted proxy: every client \
                 then has the proxy's address, and the per-IP rate limits count them all together"
            ),
            "set NETS_CORE_TRUSTED_PROXIES = [\"127.0.0.1\"] when a proxy on this host forwards to nets \
             (and sets X-Forwarded-For), or listen on a public address",
        );
    }
}

async fn mail(settings: &Settings, report: &mut Report) {
    let smtp = match Transport::from_settings(settings) {
        Ok(Transport::Smtp(smtp)) => smtp,
        Ok(_) => return,
        Err(e) => {
            let fix = "set EMAIL_HOST (SMTP), or EMAIL_BACKEND = 'file' with EMAIL_FILE_PATH";
            return report.error("EMAIL_BACKEND", e.to_string(), fix);
        }
    };
    let server = format!("{}:{}", settings.email_host.trim(), settings.email_port);
    let fix = "check EMAIL_HOST and EMAIL_PORT reach the server, EMAIL_USE_TLS / EMAIL_USE_SSL match what it \
               offers, and EMAIL_HOST_USER / EMAIL_HOST_PASSWORD";
    // Connecting runs EHLO, STARTTLS and AUTH when a user is set: a refused login shows here.
    match tokio::time::timeout(NETWORK_TIMEOUT, smtp.test_connection()).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => report.error("EMAIL_HOST", format!("the SMTP server {server} closed the connection"), fix),
        Ok(Err(e)) => report.error("EMAIL_HOST", format!("SMTP server {server}: {e}"), fix),
        Err(_) => report.error("EMAIL_HOST", format!("SMTP server {server}: no answer in {NETWORK_TIMEOUT:?}"), fix),
    }
}

/// `FIREBASE_CONFIG` (the setting, else the environment variable): readable and a
/// service account; unset outside DEBUG, every push would be recorded as failed.
#[cfg(feature = "push")]
fn push(settings: &Settings, report: &mut Report) {
    let fix = "set FIREBASE_CONFIG to the service-account JSON Firebase gives (Project settings → Service \
               accounts → Generate new private key), or to the path of that file";
    match crate::push::Push::builder(settings).build() {
        Err(e) => report.error("FIREBASE_CONFIG", e.to_string(), fix),
        Ok(push) if !push.is_configured() && !settings.debug => report.warning(
            "FIREBASE_CONFIG",
            "not set: every push notification is recorded as failed (not_configured)",
            format!("{fix}; ignore this if the app sends no pushes"),
        ),
        Ok(_) => {}
    }
}

/// Social login: a provider half configured (an id without its secret) would refuse
/// every login with it; an unknown unverified-address policy would stop the server.
#[cfg(feature = "social")]
fn social(settings: &Settings, report: &mut Report) {
    let pairs = [
        ("FACEBOOK_APP_SECRET", &settings.facebook_app_id, settings.facebook_app_secret.expose(), "Facebook"),
        ("GITHUB_CLIENT_SECRET", &settings.github_client_id, settings.github_client_secret.expose(), "GitHub"),
    ];
    for (setting, id, secret, provider) in pairs {
        if !id.trim().is_empty() && secret.trim().is_empty() {
            report.error(
                setting,
                format!("{provider} login has an id but no secret: every {provider} login is refused"),
                format!("set {setting} to the secret of the app the id names (or unset the id)"),
            );
        }
    }
    if let Err(e) = settings.social_unverified_email.parse::<crate::social::UnverifiedEmail>() {
        report.error("NETS_CORE_SOCIAL_UNVERIFIED_EMAIL", e, "use 'refuse' (the default) or 'create'");
    }
}

#[cfg(not(feature = "redis"))]
async fn redis(settings: &Settings, report: &mut Report) {
    if settings.redis_url.as_deref().is_some_and(|u| !u.trim().is_empty()) {
        report.error(
            "REDIS_URL",
            "REDIS_URL is set, and this build of nets-runtime has no Redis client",
            "build nets-runtime with its `redis` feature, or unset REDIS_URL",
        );
    }
}

#[cfg(feature = "redis")]
async fn redis(settings: &Settings, report: &mut Report) {
    let Some(url) = settings.redis_url.as_deref().filter(|u| !u.trim().is_empty()) else {
        return;
    };
    let shown = crate::settings::mask_url_password(url);
    let ping = async {
        let client = redis::Client::open(url)?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut connection).await
    };
    let fix = "start Redis, or correct REDIS_URL (unset it to keep the cache in memory on one instance)";
    match tokio::time::timeout(NETWORK_TIMEOUT, ping).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => report.error("REDIS_URL", format!("Redis at {shown} cannot be used: {e}"), fix),
        Err(_) => report.error("REDIS_URL", format!("Redis at {shown}: no answer in {NETWORK_TIMEOUT:?}"), fix),
    }
}

async fn database(
    settings: &Settings,
    migrations: Option<&Migrator>,
    app: impl AsyncFnOnce(Settings) -> Result<(App, Jobs), BoxError>,
    report: &mut Report,
) {
    let shown = crate::settings::mask_url_password(&settings.database_url);
    let db = match tokio::time::timeout(NETWORK_TIMEOUT, Db::connect(&settings.database_url, 1)).await {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => {
            let problem =
                format!("database {shown} cannot be reached: {e} (checks of the user table and permissions skipped)");
            return report.error("DATABASE_URL", problem, "start the database server or correct DATABASE_URL");
        }
        Err(_) => {
            let problem = format!("database {shown} cannot be reached: no answer in {NETWORK_TIMEOUT:?}");
            return report.error("DATABASE_URL", problem, "start the database server or correct DATABASE_URL");
        }
    };
    let checked = schema(settings, &db, migrations, app, report).await;
    db.close().await;
    if let Err(e) = checked {
        report.error("DATABASE_URL", format!("database {shown}: {e}"), "check the database user's rights");
    }
}

/// Migrations, then what needs the migrated schema: the user table and `can_do` names.
async fn schema(
    settings: &Settings,
    db: &Db,
    migrations: Option<&Migrator>,
    app: impl AsyncFnOnce(Settings) -> Result<(App, Jobs), BoxError>,
    report: &mut Report,
) -> Result<(), BoxError> {
    let pending = db.pending_migrations(migrations).await?;
    if !pending.is_empty() {
        let names: Vec<String> = pending.iter().map(|m| format!("{} {}", m.version, m.description)).collect();
        let problem = format!(
            "{} migration(s) pending ({}); checks of the user table and permissions skipped",
            pending.len(),
            names.join(", ")
        );
        let fix = "run the `migrate` command";
        if settings.migrate_on_startup {
            // `serve` applies them itself; the skipped checks are the reason to say so.
            report.warning("NETS_CORE_MIGRATE_ON_STARTUP", problem, format!("{fix} (serve would apply them)"));
        } else {
            report.error("NETS_CORE_MIGRATE_ON_STARTUP", problem, fix);
        }
        return Ok(());
    }
    if let Err(e) = crate::users::UserTable::load(db, settings).await {
        report.error(
            "NETS_CORE_USER_JSON_FIELDS",
            e.to_string(),
            "name only columns of the user table in NETS_CORE_USER_* settings, or add the column with a migration",
        );
    }
    // The app's own endpoints (a binary may link more than it serves): assembled with
    // the stack, which needs every service above; without them the names are unchecked.
    let mut quiet = settings.clone();
    quiet.migrate_on_startup = false;
    let app = match app(quiet).await {
        Ok((app, _)) => app,
        Err(e) => {
            let problem = format!("the app could not be assembled ({e}): its can_do names were not checked");
            report.warning("NETS_CORE_PERMISSIONS_STARTUP", problem, "fix the errors above, then check again");
            return Ok(());
        }
    };
    let undeclared = crate::perms::Perms::builder(db.clone()).build().undeclared(app.endpoints()).await?;
    for (codename, site) in undeclared.permissions {
        report.error(
            "NETS_CORE_PERMISSIONS_STARTUP",
            format!("can_do = \"{codename}\" ({site}) names a permission that does not exist: nobody passes it"),
            "create it (`perms` command, or NETS_CORE_PERMISSIONS_STARTUP = 'register'), or fix the spelling",
        );
    }
    for (role, site) in undeclared.roles {
        report.warning(
            "NETS_CORE_PERMISSIONS_STARTUP",
            format!("can_do = \"role:{role}\" ({site}) names a role that does not exist (a membership's role column may still name it)"),
            "create the role and grant it (`roles grant`), or fix the spelling",
        );
    }
    Ok(())
}
