//! Two server instances sharing one database (and Redis, when `NETS_TEST_REDIS_URL` is
//! set): a role revoked through instance A is refused by instance B on the very next
//! request, while B answers from its cache as long as nothing changed.

mod perms_common;

use nets_runtime::build_urlpatterns;
use nets_runtime::perms::Perms;
use nets_tests::db::{TestDb, app_builder_with, test_db};
use nets_tests::{ADMIN_TOKEN, TestServer, USER_TOKEN, bearer};
use perms_common::{ADA, exec, perms, seed};
use serde_json::json;

mod api {
    use nets_runtime::perms::Perms;
    use nets_runtime::prelude::*;

    #[request_handler(path = "projects/{project_id}/vault/", method = GET, can_do = "vault.open", perm_required, project_required)]
    async fn vault(project_id: i64) -> ApiResult<i64> {
        Ok(project_id)
    }

    /// Takes a user's role in a project away.
    #[request_handler(path = "admin/revoke/", method = POST, can_do = "admin.roles", perm_required)]
    async fn revoke(ctx: Ctx, user_id: i64, project_id: i64, role: String) -> ApiResult<bool> {
        Ok(Perms::from_ctx(&ctx)?.remove_user_from_role(user_id, Some(project_id), &role).await?)
    }
}

async fn server(db: &TestDb, perms: &Perms) -> TestServer {
    let app = app_builder_with(db).authenticator(bearer()).install(perms.clone());
    TestServer::start(app.routes(build_urlpatterns!(self::api).expect("routes")).build().expect("app").router()).await
}

struct Pair {
    db: TestDb,
    a: (Perms, TestServer),
    b: (Perms, TestServer),
}

/// Instances A and B over one database, both built from `sync_settings`; ada may open
/// Apollo's vault (role "keyholder").
async fn pair(sync_settings: &str) -> Pair {
    let db = test_db().await;
    seed(&db).await;
    let a = perms(&db, sync_settings).await;
    let b = perms(&db, sync_settings).await;
    a.get_or_create_project_role_permission(1, "keyholder", "vault.open").await.unwrap();
    a.add_user_to_role(ADA, Some(1), "keyholder").await.unwrap();
    let (server_a, server_b) = (server(&db, &a).await, server(&db, &b).await);
    Pair { a: (a, server_a), b: (b, server_b), db }
}

async fn vault(server: &TestServer) -> u16 {
    server.send(server.get("/projects/1/vault/").bearer_auth(USER_TOKEN)).await.status
}

async fn revoke_through(server: &TestServer) {
    let body = json!({"user_id": "1", "project_id": "1", "role": "keyholder"});
    server.send(server.post_json("/admin/revoke/", body).bearer_auth(ADMIN_TOKEN)).await.assert_data(json!(true));
}

/// The shared scenario: B caches, B sees A's changes at once.
async fn changes_on_a_reach_b(sync_settings: &str) {
    let Pair { db, a, b } = pair(sync_settings).await;
    assert_eq!(vault(&b.1).await, 200);

    // B answers from its cache: a change behind nets' back is not seen...
    exec(&db, "DELETE FROM nets_user_role").await;
    assert_eq!(vault(&b.1).await, 200, "B should have answered from its cache");
    // ...until an instance records it.
    a.0.invalidate().await.unwrap();
    assert_eq!(vault(&b.1).await, 403);

    a.0.add_user_to_role(ADA, Some(1), "keyholder").await.unwrap();
    assert_eq!(vault(&b.1).await, 200);
    assert_eq!(vault(&b.1).await, 200);
    // The revoke returns on A; the very next request on B is refused.
    revoke_through(&a.1).await;
    assert_eq!(vault(&b.1).await, 403);
    assert_eq!(vault(&a.1).await, 403);
    drop(b.0);
}

#[tokio::test]
async fn a_database_generation_reaches_every_instance() {
    changes_on_a_reach_b("NETS_CORE_PERMISSIONS_SYNC = 'database'").await;
}

#[tokio::test]
async fn a_redis_generation_reaches_every_instance() {
    let Ok(url) = std::env::var("NETS_TEST_REDIS_URL") else {
        eprintln!("NETS_TEST_REDIS_URL is not set: the Redis tier of this test did not run");
        return;
    };
    let key = format!("nets-test:perms:{}", uuid::Uuid::new_v4().simple());
    let settings = format!("REDIS_URL = '{url}'\nNETS_CORE_PERMISSIONS_REDIS_KEY = '{key}'");
    // `auto` picks Redis when REDIS_URL is set.
    changes_on_a_reach_b(&settings).await;

    let client = redis::Client::open(url.as_str()).expect("NETS_TEST_REDIS_URL");
    let mut connection = client.get_multiplexed_async_connection().await.expect("Redis");
    let token: Option<String> = redis::cmd("GET").arg(&key).query_async(&mut connection).await.expect("GET");
    assert!(token.is_some(), "the generation lives in Redis under {key}");
    let () = redis::cmd("DEL").arg(&key).query_async(&mut connection).await.expect("DEL");
}

#[tokio::test]
async fn redis_that_cannot_be_reached_is_a_startup_error() {
    let db = test_db().await;
    seed(&db).await;
    let settings = perms_common::settings("REDIS_URL = 'redis://127.0.0.1:1/'");
    let err = Perms::from_settings(&settings, &db).await.unwrap_err();
    assert!(err.to_string().starts_with("permission sync: cannot connect to Redis"), "{err}");
    let settings = perms_common::settings("NETS_CORE_PERMISSIONS_SYNC = 'redis'");
    let err = Perms::from_settings(&settings, &db).await.unwrap_err();
    assert_eq!(err.to_string(), "permission sync: NETS_CORE_PERMISSIONS_SYNC is 'redis' but REDIS_URL is not set");
}

/// `local` is for one process: another instance's changes are not seen (which is why
/// `auto` picks the database on PostgreSQL and Redis whenever `REDIS_URL` is set).
#[tokio::test]
async fn local_sync_is_for_one_process() {
    let Pair { db: _db, a, b } = pair("NETS_CORE_PERMISSIONS_SYNC = 'local'").await;
    assert_eq!(vault(&b.1).await, 200);
    revoke_through(&a.1).await;
    assert_eq!(vault(&a.1).await, 403);
    assert_eq!(vault(&b.1).await, 200, "B cannot know without a shared generation");
}

/// The generation row is recreated by the next change rather than silently lost.
#[tokio::test]
async fn a_deleted_generation_row_comes_back_with_the_next_change() {
    let Pair { db, a, b } = pair("NETS_CORE_PERMISSIONS_SYNC = 'database'").await;
    exec(&db, "DELETE FROM nets_perm_generation").await;
    assert_eq!(vault(&b.1).await, 200);
    revoke_through(&a.1).await;
    assert_eq!(vault(&b.1).await, 403);
    assert_eq!(perms_common::count(&db, "SELECT COUNT(*) FROM nets_perm_generation WHERE generation <> 0").await, 1);
}
