//! `import-django`, run as the built `quickstart` binary, against databases made by the
//! real django-nets-core 0.2.30 installed from PyPI: `.ci/run` builds them (SQLite and
//! PostgreSQL) with `tests/django/make_fixture.py` and names them in
//! `NETS_TEST_DJANGO_SOURCES` (`url|manifest;url|manifest`). Then the users log in with
//! the client credentials their apps were built with.
//!
//! Needs Python, so it is not part of the default `cargo test` (`--ignored` runs it);
//! `tests/tests/django_import.rs` covers the import on every run from a committed dump.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

mod sandbox;

use sandbox::Sandbox;

#[test]
#[ignore = "needs databases made by django-nets-core (Python, PyPI): .ci/run provides them"]
fn databases_made_by_django_nets_core_import_and_their_users_log_in() {
    let sources = std::env::var("NETS_TEST_DJANGO_SOURCES")
        .expect("NETS_TEST_DJANGO_SOURCES names the Django databases (see .ci/run)");
    let mut checked = 0;
    for source in sources.split(';').filter(|s| !s.trim().is_empty()) {
        let (url, manifest) = source.split_once('|').expect("url|manifest");
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(manifest).expect("manifest")).expect("manifest JSON");
        import_and_log_in(url, &manifest);
        checked += 1;
    }
    assert!(checked >= 2, "expected a SQLite and a PostgreSQL source, got {checked}");
}

fn import_and_log_in(url: &str, manifest: &Value) {
    let s = Sandbox::quickstart();
    s.ok(&["migrate"]);
    let import = |extra: &[&str]| {
        let mut args = vec!["import-django", "--from", url, "--user-table", "shop_user", "--json"];
        args.extend_from_slice(extra);
        s.json(&args)
    };
    let users = manifest["users"].as_array().unwrap();

    let dry = import(&[]);
    assert_eq!((&dry["applied"], &dry["kinds"]["users"]["created"]), (&json!(false), &json!(users.len())), "{dry}");
    assert_eq!(s.json(&["users", "list", "--json"]), json!([]), "a dry run wrote users");

    let applied = import(&["--apply", "--with-tokens"]);
    assert_eq!(applied["applied"], json!(true));
    for kind in ["users", "devices", "applications", "permissions"] {
        assert_eq!(applied["kinds"][kind]["skipped"], json!(0), "{kind}: {applied}");
    }
    assert_eq!(applied["kinds"]["tokens"]["created"], json!(1), "{applied}");
    // The quickstart has no project tables: project-scoped rows are reported, not guessed.
    let notes = applied["notes"].to_string();
    assert!(notes.contains("NETS_CORE_PROJECT_MODEL"), "{notes}");

    let again = import(&["--apply", "--with-tokens"]);
    for (kind, counts) in again["kinds"].as_object().unwrap() {
        assert_eq!(
            (&counts["created"], &counts["updated"]),
            (&json!(0), &json!(0)),
            "{kind} on the second run: {again}"
        );
    }

    let listed = s.json(&["users", "list", "--json"]);
    let mut emails: Vec<&str> = listed.as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    let mut expected: Vec<&str> = users.iter().map(|u| u["email"].as_str().unwrap()).collect();
    emails.sort_unstable();
    expected.sort_unstable();
    assert_eq!(emails, expected);
    let roles = s.json(&["roles", "list", "--json"]).to_string();
    assert!(roles.contains("accountant") && roles.contains("invoice.approve"), "{roles}");

    // Every application's clients log in with the secret compiled into them, whether
    // Django kept it in plaintext or hashed.
    let server = Server::start(&s);
    for app in manifest["applications"].as_array().unwrap() {
        let (client_id, secret) = (app["client_id"].as_str().unwrap(), app["client_secret"].as_str().unwrap());
        let login = server.post("/login/", json!({"email": "alice@example.com"}));
        assert_eq!(login["res"], json!(1), "{login}");
        let wrong =
            json!({"email": "alice@example.com", "code": "123456", "client_id": client_id, "client_secret": "nope"});
        assert_eq!(server.post("/authenticate/", wrong)["res"], json!(0));
        server.post("/login/", json!({"email": "alice@example.com"}));
        let body =
            json!({"email": "alice@example.com", "code": "123456", "client_id": client_id, "client_secret": secret});
        let tokens = server.post("/authenticate/", body);
        assert_eq!(tokens["data"]["user"]["email"], json!("alice@example.com"), "{} ({}): {tokens}", app["name"], url);
    }
    // The session alice had in Django goes on (imported with --with-tokens).
    let token = manifest["access_tokens"].as_array().unwrap().iter().find(|t| t["expired"] == json!(false)).unwrap();
    let profile = server.get("/getProfile/", token["token"].as_str().unwrap());
    assert_eq!(profile["data"]["email"], json!("alice@example.com"), "{profile}");
}

/// `quickstart serve` on a free port, stopped when dropped.
struct Server {
    child: Child,
    url: String,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Server {
    fn start(s: &Sandbox) -> Server {
        let mut child = s
            .command(&["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("a line").expect("UTF-8");
        let url = first.strip_prefix("serving on ").and_then(|l| l.split(' ').next()).expect(&first).to_owned();
        nets_runtime::install_crypto_provider();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        Server { child, url, runtime, client: reqwest::Client::new() }
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let request = self.client.post(format!("{}{path}", self.url)).json(&body);
        self.runtime.block_on(async { request.send().await.unwrap().json().await.unwrap() })
    }

    fn get(&self, path: &str, token: &str) -> Value {
        let request = self.client.get(format!("{}{path}", self.url)).bearer_auth(token);
        self.runtime.block_on(async { request.send().await.unwrap().json().await.unwrap() })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}
