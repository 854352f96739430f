//! Two server instances (two `App`s, each with its own `OAuth`, `Accounts` and cache
//! handle) sharing one database, and Redis when `NETS_TEST_REDIS_URL` is set (as in
//! `.ci/run`, with PostgreSQL through `NETS_TEST_DATABASE_URL`): they behave as one.

use nets_runtime::accounts::Accounts;
use nets_runtime::cache::Cache;
use nets_runtime::oauth::{ClientType, NewApplication, OAuth};
use nets_runtime::prelude::*;
use nets_runtime::users::UserTable;
use nets_tests::db::{TestDb, test_db};
use nets_tests::{Reply, TestServer};
use serde_json::{Value, json};

const SETTINGS: &str = "SECRET_KEY = 'shared secret of both instances-'\nDEBUG = true";

/// A Redis cache with this test's prefix, `None` without `NETS_TEST_REDIS_URL`. Set
/// but unreachable fails the test.
async fn redis(prefix: &str) -> Option<Cache> {
    let url = std::env::var("NETS_TEST_REDIS_URL").ok().filter(|u| !u.trim().is_empty())?;
    Some(Cache::redis(&url, prefix).await.unwrap_or_else(|e| panic!("NETS_TEST_REDIS_URL={url} unreachable: {e}")))
}

async fn instance(db: &TestDb, cache: Cache) -> TestServer {
    let settings = nets_tests::settings(SETTINGS);
    let oauth = OAuth::from_settings(&settings, &db.db).await.unwrap();
    let users = UserTable::load(&db.db, &settings).await.unwrap();
    let accounts = Accounts::new(oauth.clone(), users, cache, &settings).unwrap();
    let app = App::builder(settings).database(db.db.clone()).authenticator(oauth.bearer());
    TestServer::start(
        app.install(oauth.clone())
            .install(accounts.clone())
            .routes(build_urlpatterns!().unwrap())
            .build()
            .expect("app")
            .router(),
    )
    .await
}

async fn post(server: &TestServer, path: &str, body: Value, token: Option<&str>) -> Reply {
    let request = server.post_json(path, body);
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    server.send(request).await
}

fn credentials(client: &NewApplication) -> (String, String) {
    (client.client_id.clone(), client.client_secret.clone().unwrap())
}

#[tokio::test]
async fn two_instances_share_codes_tokens_revocation_and_rate_limits() {
    let db = test_db().await;
    let prefix = format!("nets-test:{}:", uuid::Uuid::new_v4().simple());
    let shared = redis(&prefix).await;
    let (a, b) = match &shared {
        Some(cache) => (instance(&db, cache.clone()).await, instance(&db, redis(&prefix).await.unwrap()).await),
        None => (instance(&db, Cache::memory(1000)).await, instance(&db, Cache::memory(1000)).await),
    };
    let settings = nets_tests::settings(SETTINGS);
    let client =
        OAuth::from_settings(&settings, &db.db).await.unwrap().create_application("m", ClientType::Confidential).await;
    let (client_id, secret) = credentials(&client.unwrap());

    // A code requested on A is accepted on B.
    let reply = post(&a, "/login/", json!({"email": "ada@x.io", "device": {"name": "p"}}), None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let device = reply.json["extra"]["device_uuid"].as_str().unwrap().to_owned();
    let auth = json!({"email": "ada@x.io", "code": "123456", "client_id": client_id, "client_secret": secret, "device_uuid": device});
    let reply = post(&b, "/authenticate/", auth.clone(), None).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // ...and only once, whichever instance is asked.
    assert_eq!(post(&a, "/authenticate/", auth, None).await.status, 400);

    // A token issued by B works on A; revoked on A, refused by both.
    let token = reply.data()["access_token"].as_str().unwrap().to_owned();
    let profile = a.send(a.get("/getProfile/").bearer_auth(&token)).await;
    assert_eq!(profile.status, 200, "{}", profile.text());
    assert_eq!(profile.data()["email"], "ada@x.io");
    post(&a, "/logout/", json!({}), Some(&token)).await.assert_data(json!("Logged out successfully"));
    for server in [&a, &b] {
        assert_eq!(server.send(server.get("/getProfile/").bearer_auth(&token)).await.status, 401);
    }

    // With Redis, the per-identifier login limit is one budget across instances.
    if shared.is_some() {
        for i in 0..4 {
            let server = if i % 2 == 0 { &b } else { &a };
            assert_eq!(post(server, "/login/", json!({"email": "ada@x.io"}), None).await.status, 200);
        }
        assert_eq!(post(&b, "/login/", json!({"email": "ada@x.io"}), None).await.status, 429);
    }
}
