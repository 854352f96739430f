//! `cargo run -p nets-examples --bin quickstart [-- --addr 127.0.0.1:8000]`
//!
//! The quickstart app on nets' management commands (`quickstart --help`): `serve` (the
//! default), `migrate [--check]`, `worker`, `createapp NAME [--public]` (prints
//! `{"client_id":"..","client_secret":".."}`, the only time the secret is shown),
//! `createsuperuser`, `users`, `roles`, `perms`, `email`, `routes`, `openapi`.
//!
//! Stores its data in `DATABASE_URL` (default: `nets.db`, an SQLite file created in the
//! current directory); `REDIS_URL` puts the cache in Redis. It runs in DEBUG unless
//! `DEBUG=false`: e-mails go to the console and logins use the fixed code.

use std::process::ExitCode;

use nets_examples::quickstart;
use nets_runtime::Settings;
use nets_runtime::cli::{Manage, init_logging};

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let mut settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The example runs in DEBUG unless told otherwise (`DEBUG=false`): it needs no mail
    // server and logs in with the fixed code, on 127.0.0.1 only (see `serve_with`).
    if std::env::var_os("DEBUG").is_none() {
        settings.debug = true;
    }
    // The development key is published in this source: never outside DEBUG (where a
    // missing SECRET_KEY is an error, and `check` says so).
    if settings.debug && settings.secret_key.as_ref().is_none_or(|k| k.expose().is_empty()) {
        tracing::warn!("SECRET_KEY is not set: using the quickstart's development key");
        settings.secret_key = Some(quickstart::DEVELOPMENT_SECRET_KEY.into());
    }
    Manage::new(quickstart::customise).settings(settings).run().await
}
