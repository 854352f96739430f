//! The nets side of the HTTP benchmark (`examples/bench/vs_handwritten.py`): a nets app doing the
//! work of the hand-written axum + sqlx server in `../shared/bench-limit/handwritten`,
//! on the same fixtures, so `wrk` can alternate between the two.
//!
//! * `GET /openapi.json`: nets' generated document (ETag, gzip and brotli copies);
//! * `GET /getProfile/`: the built-in account endpoint behind OAuth2 bearer tokens;
//! * `GET /demo/invoice/?id=N&fields=id,number,total&nested=false`: an owned
//!   `#[derive(NetsModel)]` loaded by `model = Invoice`, with the original's `fields`
//!   selection.
//!
//! Environment: `NETS_BENCH_ADDR` (127.0.0.1:8701), `NETS_BENCH_CLIENT_JSON` (where the
//! fixture ids and bearer tokens go, in the hand-written server's `client.json` shape),
//! and nets' own settings (`DATABASE_URL` defaults to `nets-bench.sqlite3` in the current
//! directory, recreated at every start). Not DEBUG: production defaults.

use std::collections::BTreeMap;
use std::process::ExitCode;

use chrono::{DateTime, NaiveDate, Utc};
use nets_runtime::db::Db;
use nets_runtime::oauth::{ClientType, OAuth};
use nets_runtime::prelude::*;
use nets_runtime::response::Success;
use nets_runtime::stack::Stack;
use serde_json::{Map, Value, json};

/// An invoice, as the hand-written server's `invoices` table holds it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
#[nets(
    table = "bench_invoice",
    json_fields(id, user_id, number, total, paid, issued, created, updated),
    owner = "user_id"
)]
pub struct Invoice {
    id: i64,
    user_id: i64,
    number: String,
    total: f64,
    paid: bool,
    issued: NaiveDate,
    project_id: Option<i64>,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
}

/// With `nested`, and no `fields`, the original's nested default.
const NESTED_DEFAULT: [&str; 4] = ["id", "number", "total", "paid"];

/// One of the caller's invoices: `fields` (a comma list or a JSON-encoded list) picks
/// what is returned; someone else's invoice is a 404.
#[request_handler(path = "demo/invoice/", method = GET, model = Invoice, tags = ["bench"])]
async fn demo_invoice(
    ctx: Ctx,
    invoice: Invoice,
    fields: Option<Vec<String>>,
    #[param(default = false)] nested: bool,
) -> ApiResult<Success<Map<String, Value>>> {
    let names: Vec<&str> = match &fields {
        Some(list) => list.iter().map(String::as_str).collect(),
        None if nested => NESTED_DEFAULT.to_vec(),
        None => Vec::new(),
    };
    let data = invoice.to_json(ctx.settings(), Fields::Only(&names))?;
    Ok(Success::new(data).extra(json!({"is_owner": true, "perm": ctx.perm()})))
}

const SCHEMA: &str = "CREATE TABLE bench_invoice (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES nets_user (id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    total REAL NOT NULL,
    paid BOOLEAN NOT NULL DEFAULT FALSE,
    issued TEXT NOT NULL,
    project_id INTEGER,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
)";

/// The hand-written server's users (key, e-mail, first name, superuser).
const USERS: [(&str, &str, &str, bool); 9] = [
    ("alice", "alice@example.com", "Alice", false),
    ("bob", "bob@example.com", "Bob", false),
    ("carol", "carol@example.com", "Carol", false),
    ("dave", "dave@example.com", "", false),
    ("erin", "erin@example.com", "", false),
    ("frank", "frank@example.com", "", false),
    ("root", "root@example.com", "", true),
    ("mallory", "mallory@example.com", "", false),
    ("zoe", "zoe@example.com", "", false),
];

/// Users, one access token each, and the three invoices; the `client.json` document.
async fn fixtures(db: &Db, oauth: &OAuth) -> Result<Value, Box<dyn std::error::Error>> {
    // Irrefutable in the app's own build (nets without its `postgres` feature); `--full`
    // builds it with PostgreSQL too.
    #[allow(irrefutable_let_patterns)]
    let Db::Sqlite(pool) = db else { return Err("the benchmark runs on SQLite, like the hand-written server".into()) };
    sqlx::query(SCHEMA).execute(pool).await?;
    let client = oauth.create_application("bench", ClientType::Confidential).await?;
    let (mut ids, mut emails, mut tokens) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for (name, email, first, root) in USERS {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO nets_user (email, first_name, email_verified, is_staff, is_superuser) \
             VALUES ($1, $2, TRUE, $3, $3) RETURNING id",
        )
        .bind(email)
        .bind(first)
        .bind(root)
        .fetch_one(pool)
        .await?;
        let pair = oauth.generate_tokens(id, client.id, None).await?;
        ids.insert(name, id);
        emails.insert(name, email);
        tokens.insert(name, pair.access_token);
    }
    let now = Utc::now();
    let mut invoices = BTreeMap::new();
    for (key, owner, number, total, issued) in [
        ("alice1", "alice", "INV-A1", 125.5, "2024-01-15"),
        ("alice2", "alice", "INV-A2", 0.99, "2024-02-01"),
        ("bob1", "bob", "INV-B1", 300.0, "2024-03-10"),
    ] {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO bench_invoice (user_id, number, total, issued, created, updated) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(ids[owner])
        .bind(number)
        .bind(total)
        .bind(issued)
        .bind(now)
        .fetch_one(pool)
        .await?;
        invoices.insert(key, id);
    }
    Ok(json!({"users": emails, "tokens": tokens, "ids": {"user": ids, "invoice": invoices, "project": {}}}))
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Logs as a served nets app logs (`RUST_LOG`, default `info`).
    nets_runtime::cli::init_logging();
    let mut settings = Settings::load()?;
    if settings.database_url == Settings::default().database_url {
        settings.database_url = "sqlite://nets-bench.sqlite3?mode=rwc".into();
    }
    if let Some(path) = settings.database_url.strip_prefix("sqlite://").and_then(|p| p.split('?').next()) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    // The hand-written server's profile: the original's `JSON_DATA_FIELDS` of its app.
    settings.user_json_fields = ["id", "email", "first_name", "last_name", "email_verified", "is_staff", "is_active"]
        .into_iter()
        .chain(["date_joined", "last_login"])
        .map(str::to_owned)
        .collect();
    // nets protects these by default; the hand-written server shows them.
    settings.protected_fields.retain(|f| f != "is_staff" && f != "is_active");
    if settings.secret_key.is_none() {
        settings.secret_key = Some("nets-http-benchmark-key-xxxxxxxxxxxxxxxxxxxxxxxx".into());
    }
    if settings.email_backend.is_empty() {
        settings.email_backend = "file".into();
        settings.email_file_path = std::env::temp_dir().join("nets-bench-mail").display().to_string();
    }
    let stack = Stack::from_settings(settings).await?;
    let client = fixtures(&stack.db, &stack.oauth).await?;
    let path = std::env::var("NETS_BENCH_CLIENT_JSON").unwrap_or_else(|_| "nets-client.json".into());
    std::fs::write(&path, serde_json::to_vec_pretty(&client)?)?;
    let app = stack.app().routes(build_urlpatterns!(self)?).build()?;
    let addr = std::env::var("NETS_BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:8701".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("nets benchmark server on http://{addr}/ (pid {})", std::process::id());
    app.serve_until(listener, nets_runtime::shutdown_signal()).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
