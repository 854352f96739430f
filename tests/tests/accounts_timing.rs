//! How long a failed `/authenticate/` takes, by case: the measurement behind issue 11
//! item 10 (a wrong code for an account with a pending code must not take longer than a
//! try for an unknown address). Timings depend on the machine, so this is a measurement
//! to run and read, not an assertion:
//!
//! ```text
//! cargo test -p nets-tests --test accounts_timing -- --ignored --nocapture
//! ```
//!
//! SQLite by default, PostgreSQL when `NETS_TEST_DATABASE_URL` is set.

use std::time::{Duration, Instant};

use nets_runtime::accounts::Accounts;
use nets_runtime::cache::Cache;
use nets_runtime::oauth::{ClientType, OAuth};
use nets_runtime::prelude::*;
use nets_runtime::users::UserTable;
use nets_tests::TestServer;
use nets_tests::db::test_db;
use serde_json::json;

/// Rate limits off: the measurement sends far more tries than a client may.
const SETTINGS: &str = "SECRET_KEY = 'accounts timing secret'\nDEBUG = true\n\
    NETS_CORE_LOGIN_CODES_PER_IDENTIFIER = 0\nNETS_CORE_LOGIN_CODES_PER_IDENTIFIER_CEILING = 0\n\
    NETS_CORE_LOGIN_REQUESTS_PER_IP = 0\nNETS_CORE_CODE_CHECKS_PER_IP = 0\n\
    NETS_CORE_CODE_CHECKS_PER_ACCOUNT_PER_HOUR = 0\nNETS_CORE_CODE_CHECKS_PER_ACCOUNT_PER_DAY = 0";

const SAMPLES: usize = 100;

async fn warm(server: &TestServer) -> nets_tests::Reply {
    server.send(server.post_json("/login/", json!({"email": "warm@x.io"}))).await
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
#[ignore = "a measurement: run with --ignored --nocapture and read the numbers"]
async fn failed_code_checks_take_alike_whoever_is_logging_in() {
    let db = test_db().await;
    let settings = nets_tests::settings(SETTINGS);
    let oauth = OAuth::from_settings(&settings, &db.db).await.unwrap();
    let users = UserTable::load(&db.db, &settings).await.unwrap();
    let accounts = Accounts::new(oauth.clone(), users, Cache::memory(100_000), &settings).unwrap();
    let app = App::builder(settings).database(db.db.clone()).authenticator(oauth.bearer());
    let server = TestServer::start(
        app.install(accounts.clone()).routes(build_urlpatterns!().unwrap()).build().expect("app").router(),
    )
    .await;
    let client = oauth.create_application("timing", ClientType::Confidential).await.unwrap();
    let secret = client.client_secret.clone().unwrap();
    let check =
        |email: &str| json!({"email": email, "code": "999999", "client_id": client.client_id, "client_secret": secret});
    // An account with a pending code (the debug code is stored before /login/ answers),
    // logged in once so the account exists under either behaviour.
    let pending = "pending@x.io";
    for email in [pending, "used@x.io"] {
        let reply = server.send(server.post_json("/login/", json!({"email": email}))).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let mut ok = check(email);
        ok["code"] = json!("123456");
        assert_eq!(server.send(server.post_json("/authenticate/", ok)).await.status, 200);
    }

    let (mut wrong, mut unknown, mut no_code) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..SAMPLES {
        // A fresh code each round, so every wrong try counts (5 would kill it).
        let reply = server.send(server.post_json("/login/", json!({"email": pending}))).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let start = Instant::now();
        let reply = server.send(server.post_json("/authenticate/", check(pending))).await;
        wrong.push(start.elapsed());
        assert_eq!(reply.status, 400);
        // Every timed try follows a /login/ (whose writes land just before), alike.
        assert_eq!(warm(&server).await.status, 200);
        let start = Instant::now();
        let reply = server.send(server.post_json("/authenticate/", check(&format!("nobody{n}@x.io")))).await;
        unknown.push(start.elapsed());
        assert_eq!(reply.status, 400);
        // The account exists but its code was used: no pending code.
        assert_eq!(warm(&server).await.status, 200);
        let start = Instant::now();
        let reply = server.send(server.post_json("/authenticate/", check("used@x.io"))).await;
        no_code.push(start.elapsed());
        assert_eq!(reply.status, 400);
    }
    eprintln!(
        "{:?}, median of {SAMPLES}: wrong code for a pending account {:?}; unknown address {:?}; \
         no pending code {:?}",
        db.backend(),
        median(wrong),
        median(unknown),
        median(no_code)
    );
}
