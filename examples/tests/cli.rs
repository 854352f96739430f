//! nets' management commands, run as the built `quickstart` and `projects` binaries on a
//! database of their own: output, `--json` shapes, exit codes, and bad input answered
//! with one `error: ..` line and status 1 (never a panic).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

mod sandbox;

use sandbox::Sandbox;

#[test]
fn migrate_check_exits_1_while_migrations_are_pending() {
    let s = Sandbox::quickstart();
    let out = s.run(&["migrate", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.lines().count() >= 7 && listed.lines().all(|l| l.starts_with("pending: ")), "{listed}");
    assert!(listed.contains("users oauth (nets)"), "{listed}");
    assert_eq!(s.ok(&["migrate"]).trim(), "migrations applied");
    assert_eq!(s.ok(&["migrate", "--check"]).trim(), "no pending migrations");
}

#[test]
fn the_app_s_own_migrations_are_applied_and_checked_too() {
    let s = Sandbox::new(env!("CARGO_BIN_EXE_projects"));
    let out = s.run(&["migrate", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("projects (app)"));
    s.ok(&["migrate"]);
    assert_eq!(s.ok(&["migrate", "--check"]).trim(), "no pending migrations");
    // The example's routes, over its own tables (permissions resolve its projects).
    let routes = s.json(&["routes", "--json"]);
    let rule = routes.as_array().unwrap().iter().find(|r| r["path"] == "/projects/{project_id}/documents/").unwrap();
    assert_eq!(rule["can_do"], serde_json::json!(["documents.view"]), "{rule}");
    assert_eq!(rule["project"], "project_id");
}

#[test]
fn createapp_prints_one_json_line_with_the_secret() {
    let s = Sandbox::quickstart();
    let created = s.json(&["createapp", "mobile"]);
    assert_eq!(created["client_id"].as_str().map(str::len), Some(40), "{created}");
    assert_eq!(created["client_secret"].as_str().map(str::len), Some(64), "{created}");
    let public = s.json(&["createapp", "web", "--public"]);
    assert!(public["client_secret"].is_null(), "{public}");

    // A deployed app's credentials, kept (the secret from the environment, not argv).
    let out =
        s.run_env(&["createapp", "legacy", "--client-id", "legacy-ios"], &[("NETS_CLIENT_SECRET", "old-secret-42")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let kept: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (kept["client_id"].as_str(), kept["client_secret"].as_str()),
        (Some("legacy-ios"), Some("old-secret-42"))
    );
    assert!(s.fails(&["createapp", "again", "--client-id", "legacy-ios", "--client-secret", "x"]).contains("exists"));
    assert!(s.fails(&["createapp", "legacy2", "--client-id", "no-secret"]).contains("secret"));
    assert!(s.fails(&["createapp", "x", "--client-secret", "s"]).contains("--client-id"));
    assert!(s.fails(&["createapp", "x", "--public", "--client-id", "p1", "--client-secret", "s"]).contains("public"));
}

#[test]
fn createsuperuser_creates_or_promotes_and_refuses_bad_input() {
    let s = Sandbox::quickstart();
    let created = s.json(&["createsuperuser", "--email", "Root@Example.com"]);
    assert_eq!((created["email"].as_str(), created["created"].as_bool()), (Some("root@example.com"), Some(true)));
    // Again: the same account, promoted (not a second one).
    let again = s.json(&["createsuperuser", "--email", "root@example.com"]);
    assert_eq!((again["id"].clone(), again["created"].as_bool()), (created["id"].clone(), Some(false)));
    let users = s.json(&["users", "list", "--json"]);
    let root = users.as_array().unwrap().iter().find(|u| u["email"] == "root@example.com").unwrap();
    assert_eq!((root["is_superuser"].as_bool(), root["is_active"].as_bool()), (Some(true), Some(true)));

    assert_eq!(
        s.fails(&["createsuperuser", "--email", "not-an-address"]),
        "error: 'not-an-address' is not a valid e-mail address"
    );
    // No terminal to ask on (stdin is not one here).
    assert_eq!(s.fails(&["createsuperuser"]), "error: --email is required (no terminal to ask on)");
}

#[test]
fn users_are_deactivated_and_reactivated_by_address_id_or_name() {
    let s = Sandbox::quickstart();
    let id = s.json(&["createsuperuser", "--email", "ada@example.com"])["id"].as_i64().unwrap();
    let off = s.json(&["users", "deactivate", "ADA@example.com"]);
    assert_eq!((off["id"].as_i64(), off["is_active"].as_bool()), (Some(id), Some(false)));
    let on = s.json(&["users", "activate", &id.to_string()]);
    assert_eq!(on["is_active"], true);
    assert_eq!(
        s.fails(&["users", "deactivate", "nobody@example.com"]),
        "error: no user 'nobody@example.com' (give an id, e-mail address or username)"
    );
    let table = s.ok(&["users", "list"]);
    assert!(table.starts_with("      id  email") && table.contains("ada@example.com"), "{table}");
}

#[test]
fn roles_and_permissions_are_granted_listed_and_revoked() {
    let s = Sandbox::quickstart();
    s.json(&["createsuperuser", "--email", "ada@example.com"]);
    let granted = s.json(&["roles", "grant", "ada@example.com", "accountant"]);
    assert_eq!(granted["changed"], true);
    assert_eq!(s.json(&["roles", "grant", "ada@example.com", "accountant"])["changed"], false, "already held");
    let perm = s.json(&["perms", "grant", "accountant", "invoices.approve"]);
    assert_eq!(
        (perm["codename"].as_str(), perm["permission_created"].as_bool()),
        (Some("invoices.approve"), Some(true))
    );

    let roles = s.json(&["roles", "list", "--json"]);
    assert_eq!(roles[0]["name"], "accountant", "{roles}");
    assert_eq!(roles[0]["members"], 1);
    assert_eq!(roles[0]["permissions"], serde_json::json!(["invoices.approve"]));
    let perms = s.json(&["perms", "list", "--json"]);
    assert_eq!(perms[0]["roles"], serde_json::json!(["accountant"]), "{perms}");

    assert_eq!(s.json(&["perms", "revoke", "accountant", "invoices.approve"])["changed"], true);
    assert_eq!(s.json(&["roles", "revoke", "ada@example.com", "accountant"])["changed"], true);
    assert_eq!(s.json(&["roles", "list", "--json"])[0]["members"], 0);

    // Bad input: a bad codename, a project scope the app has no projects for, an unknown user.
    assert!(s.fails(&["perms", "grant", "accountant", "not a codename!"]).starts_with("error: "));
    let scoped = s.fails(&["roles", "grant", "ada@example.com", "editor", "--project", "3"]);
    assert!(scoped.contains("projects are not configured"), "{scoped}");
    assert!(s.fails(&["roles", "grant", "bob@example.com", "editor"]).contains("no user 'bob@example.com'"));
}

#[test]
fn routes_audit_what_anonymous_callers_reach() {
    let s = Sandbox::quickstart();
    let all = s.json(&["routes", "--json"]);
    let public = s.json(&["routes", "--json", "--public"]);
    let paths =
        |v: &Value| v.as_array().unwrap().iter().map(|r| r["path"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert!(paths(&all).contains(&"/getProfile/".to_owned()) && paths(&all).contains(&"/notes/{id}/".to_owned()));
    assert!(public.as_array().unwrap().iter().all(|r| r["access"] == "public"), "{public}");
    for path in ["/ping/", "/login/", "/o/token/"] {
        assert!(paths(&public).contains(&path.to_owned()), "{path} is public");
    }
    assert!(!paths(&public).contains(&"/getProfile/".to_owned()));
    let note = all.as_array().unwrap().iter().find(|r| r["path"] == "/notes/{id}/").unwrap();
    assert_eq!((note["model"].as_str(), note["access"].as_str()), (Some("Note"), Some("authenticated")));
    assert!(note["location"].as_str().unwrap().starts_with("examples/src/quickstart.rs:"));
    let table = s.ok(&["routes"]);
    assert!(table.starts_with("METHODS") && table.contains("model Note (owner only)"), "{table}");
}

#[test]
fn openapi_is_written_without_serving() {
    let s = Sandbox::quickstart();
    let doc = s.json(&["openapi"]);
    assert!(doc["paths"]["/getProfile/"]["get"].is_object() && doc["paths"]["/o/token/"]["post"].is_object());
    s.ok(&["openapi", "--out", "doc.json"]);
    let written = std::fs::read_to_string(s.dir.join("doc.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), doc, "the same document");
    assert!(s.fails(&["openapi", "--out", "no/such/dir/doc.json"]).starts_with("error: cannot write"));
}

#[test]
fn every_command_has_help() {
    let s = Sandbox::quickstart();
    let help = s.ok(&["--help"]);
    for command in [
        "serve",
        "migrate",
        "worker",
        "createapp",
        "createsuperuser",
        "users",
        "roles",
        "perms",
        "email",
        "routes",
        "openapi",
        "check",
        "init",
    ] {
        assert!(help.contains(command), "{command} in --help: {help}");
        s.ok(&[command, "--help"]);
    }
    // A mistake on the command line is clap's usage error (status 2), not a crash.
    let out = s.run(&["roles", "grant"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn serve_answers_then_stops_cleanly_on_sigterm() {
    let s = Sandbox::quickstart();
    let mut child = s
        .command(&["--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a line").expect("UTF-8");
    let url = first.strip_prefix("serving on ").and_then(|l| l.split(' ').next()).expect(&first).to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer: Value = runtime.block_on(async {
        nets_runtime::install_crypto_provider();
        let reply = reqwest::get(format!("{url}/ping/")).await.unwrap();
        reply.json().await.unwrap()
    });
    assert_eq!(answer, serde_json::json!({"res": 1, "data": "pong"}));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.trim_end().ends_with("stopped"), "{stderr}");
}
