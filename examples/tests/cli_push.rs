//! `push test|list|retry` run as the built `quickstart` binary against the local FCM
//! peer: one JSON line per device, exit status 1 on any failure, `error: ..` lines.

use std::process::Output;

use nets_tests::fcm::{FcmPeer, Outcome};
use serde_json::Value;

mod sandbox;

use sandbox::Sandbox;

/// The peer as FCM and its service account as `FIREBASE_CONFIG`.
fn push_env(peer: &FcmPeer) -> Vec<(&'static str, String)> {
    vec![
        ("FIREBASE_CONFIG", peer.service_account_json()),
        ("NETS_CORE_FCM_BASE_URL", peer.base.clone()),
        ("NETS_CORE_PUSH_TIMEOUT_SECONDS", "2".into()),
        ("NETS_CORE_PUSH_MAX_RETRIES", "0".into()),
    ]
}

fn run(s: &Sandbox, peer: &FcmPeer, args: &[&str]) -> Output {
    let env = push_env(peer);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    s.run_env(args, &env)
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

/// Runs SQL on the sandbox's database (after `migrate`).
async fn sql(s: &Sandbox, statement: &str) -> i64 {
    let url = format!("sqlite://{}/app.db", s.dir.display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("sandbox database");
    let id: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(statement.to_owned())).fetch_one(&pool).await.expect(statement);
    pool.close().await;
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn push_test_prints_one_line_per_device_and_exits_1_on_any_failure() {
    let peer = FcmPeer::start().await;
    let s = Sandbox::quickstart();
    s.ok(&["migrate"]);

    // A token: sent, its message name printed, `--data` as strings.
    let out =
        run(&s, &peer, &["push", "test", "--token", "ok-token", "--title", "T", "--message", "M", "--data", "k=v"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = lines(&out);
    assert_eq!(printed.len(), 1);
    assert_eq!((printed[0]["token"].as_str(), printed[0]["success"].as_bool()), (Some("ok-token"), Some(true)));
    assert!(printed[0]["message_id"].as_str().is_some_and(|m| m.starts_with("projects/nets-test-project/messages/")));
    let body = &peer.received()[0].body["message"];
    assert_eq!((body["notification"]["title"].as_str(), body["data"]["k"].as_str()), (Some("T"), Some("v")));

    // A dead token: printed as a failure, status 1.
    peer.script("dead", [Outcome::Unregistered]);
    let out = run(&s, &peer, &["push", "test", "--token", "dead"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(lines(&out)[0]["error"].as_str().is_some_and(|e| e.starts_with("dead_token: UNREGISTERED")));

    // A user: one line per active device, status 1 because one token is dead.
    let user = sql(&s, "INSERT INTO nets_user (email) VALUES ('ada@example.com') RETURNING id").await;
    for token in ["tok-a", "dead"] {
        let device = format!(
            "INSERT INTO nets_user_device (user_id, uuid, name, firebase_token) \
             VALUES ({user}, randomblob(16), 'phone', '{token}') RETURNING id"
        );
        sql(&s, &device).await;
    }
    let out = run(&s, &peer, &["push", "test", "--user-id", &user.to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let printed = lines(&out);
    assert_eq!(printed.len(), 2, "{printed:?}");
    assert_eq!(printed.iter().filter(|l| l["success"] == true).count(), 1);
    assert!(printed.iter().all(|l| l["device_id"].is_i64()));

    // The dead delivery is listed, and retried on request.
    let dead =
        String::from_utf8_lossy(&run(&s, &peer, &["push", "list", "--status", "dead", "--json"]).stdout).into_owned();
    let dead: Value = serde_json::from_str(&dead).expect("JSON list");
    assert_eq!(dead.as_array().map(Vec::len), Some(1), "{dead}");
    let id = dead[0]["id"].as_i64().expect("id");
    let retried = run(&s, &peer, &["push", "retry", "--dead"]);
    assert_eq!(String::from_utf8_lossy(&retried.stdout).trim(), format!("{id}: queued again"));

    // Bad input: one error line, status 1 (clap's own usage errors: status 2).
    let env = push_env(&peer);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = s.run_env(&["push", "test", "--user-id", "999"], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: user 999 not found"));
    assert_eq!(s.run(&["push", "test"]).status.code(), Some(2));
    assert_eq!(s.run(&["push", "test", "--token", "t", "--data", "novalue"]).status.code(), Some(2));
}

#[test]
fn without_credentials_debug_logs_and_production_fails_not_configured() {
    let s = Sandbox::quickstart();
    s.ok(&["migrate"]);
    // quickstart runs in DEBUG: the console transport records the message as sent.
    let line: Value = serde_json::from_str(s.ok(&["push", "test", "--token", "t"]).trim()).expect("a JSON line");
    assert!(line["message_id"].as_str().is_some_and(|m| m.starts_with("projects/debug/messages/console-")));
    let out = s.run_env(
        &["push", "test", "--token", "t"],
        &[
            ("DEBUG", "false"),
            ("SECRET_KEY", "a-production-secret-key-of-forty-eight-bytes-xyz"),
            ("EMAIL_BACKEND", "file"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let line: Value = serde_json::from_slice(&out.stdout).expect("a JSON line");
    assert!(line["error"].as_str().is_some_and(|e| e.starts_with("not_configured")), "{line}");
}
