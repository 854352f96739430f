//! The built `myapp` binary end to end, as a user would run it: migrate, register a
//! client, serve, log in with the DEBUG code, use the two endpoints, stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn myapp(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_myapp"));
    command
        .args(args)
        .current_dir(dir)
        .env("DATABASE_URL", format!("sqlite://{}/myapp.db?mode=rwc", dir.display()))
        .env("DEBUG", "true")
        // createapp and serve are two processes: one key, or the client secret would not verify.
        .env("SECRET_KEY", "myapp-test-key-0123456789abcdef0123456789")
        .env("RUST_LOG", "warn")
        .env_remove("REDIS_URL")
        .env_remove("NETS_ADDR")
        .stdin(Stdio::null());
    command
}

#[test]
fn the_short_form_app_migrates_serves_logs_in_and_stops() {
    let dir = std::env::temp_dir().join(format!("nets-myapp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let migrated = myapp(&dir, &["migrate"]).output().unwrap();
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    let check = myapp(&dir, &["migrate", "--check"]).output().unwrap();
    assert!(check.status.success(), "the app's own migration was applied too");
    let created = myapp(&dir, &["createapp", "cli"]).output().unwrap();
    let client: Value = serde_json::from_slice(&created.stdout).expect("one JSON line");

    let mut server = myapp(&dir, &["--addr", "127.0.0.1:0"]).stdout(Stdio::piped()).spawn().unwrap();
    let first = BufReader::new(server.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    let url = first.strip_prefix("serving on ").and_then(|l| l.split(' ').next()).expect(&first).to_owned();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // rustls (nets' push client) needs its crypto provider before any client.
        nets_runtime::install_crypto_provider();
        let http = reqwest::Client::new();
        let post = |path: &str, body: Value| http.post(format!("{url}{path}")).json(&body);
        let login = async |email: &str| -> String {
            let reply = post("/login/", json!({"email": email})).send().await.unwrap();
            assert_eq!(reply.status(), 200);
            let body = json!({"email": email, "code": "123456", "client_id": client["client_id"],
                              "client_secret": client["client_secret"]});
            let tokens: Value = post("/authenticate/", body).send().await.unwrap().json().await.unwrap();
            tokens["data"]["access_token"].as_str().expect("an access token").to_owned()
        };
        let (ada, bob) = (login("ada@example.com").await, login("bob@example.com").await);

        let added: Value =
            post("/tasks/", json!({"title": "Buy milk"})).bearer_auth(&ada).send().await.unwrap().json().await.unwrap();
        assert_eq!(added["data"]["title"], "Buy milk", "{added}");
        let task = format!("{url}/tasks/{}/", added["data"]["id"]);
        let mine: Value = http.get(&task).bearer_auth(&ada).send().await.unwrap().json().await.unwrap();
        assert_eq!(mine["data"], added["data"]);
        assert_eq!(http.get(&task).bearer_auth(&bob).send().await.unwrap().status(), 404, "owner only");
        assert_eq!(http.get(&task).send().await.unwrap().status(), 401);
        let empty = post("/tasks/", json!({"title": ""})).bearer_auth(&ada).send().await.unwrap();
        assert_eq!(empty.status(), 400);
        let doc: Value = http.get(format!("{url}/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert!(doc["paths"]["/tasks/{id}/"]["get"].is_object() && doc["paths"]["/login/"]["post"].is_object());
    });

    assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "myapp did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}
