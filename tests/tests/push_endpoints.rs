//! The push endpoints over HTTP, installed with `AppBuilder::install(push)`:
//! `POST /push/token/`, `GET|POST /push/notifications/`, `POST /push/notifications/read/`.
//! Bad input is a 4xx naming the problem, never a 5xx. On SQLite, or PostgreSQL with
//! `NETS_TEST_DATABASE_URL`.

mod push_common;

use nets_runtime::db::on_pool;
use nets_runtime::push::{Notification, Push};
use nets_tests::db::{TestDb, test_db};
use nets_tests::fcm::FcmPeer;
use nets_tests::{OTHER_TOKEN, TestServer, USER_TOKEN};
use serde_json::{Value, json};

use push_common::{add_device, device, push_with_db, settings};

struct Fixture {
    server: TestServer,
    push: Push,
    db: TestDb,
    peer: FcmPeer,
}

/// Users 1 (ada, `USER_TOKEN`) and 2 (bob, `OTHER_TOKEN`), and an app with push installed.
async fn fixture() -> Fixture {
    let peer = FcmPeer::start().await;
    let db = test_db().await;
    for (id, email) in [(1, "ada@example.com"), (2, "bob@example.com")] {
        on_pool!(&db.db, |pool| sqlx::query("INSERT INTO nets_user (id, email) VALUES ($1, $2)")
            .bind(id as i64)
            .bind(email)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .expect("user");
    }
    let s = settings(&peer);
    let (push, _jobs) = push_with_db(&peer, &s, &db).await;
    let app = nets_tests::app(s).database(db.db.clone()).install(push.clone()).build().expect("app with push");
    Fixture { server: TestServer::start(app.router()).await, push, db, peer }
}

impl Fixture {
    async fn post(&self, path: &str, token: &str, body: Value) -> nets_tests::Reply {
        self.server.send(self.server.post_json(path, body).bearer_auth(token)).await
    }
    async fn device_of(&self, uuid: &str) -> i64 {
        let uuid: uuid::Uuid = uuid.parse().expect("a uuid");
        on_pool!(&self.db.db, |pool| sqlx::query_scalar("SELECT id FROM nets_user_device WHERE uuid = $1")
            .bind(uuid)
            .fetch_one(pool)
            .await)
        .expect("device")
    }
}

#[tokio::test]
async fn registering_a_token_creates_refreshes_moves_and_reactivates() {
    let f = fixture().await;
    // No device yet: one is created for the caller.
    let r = f.post("/push/token/", USER_TOKEN, json!({"firebase_token": "tok:A-1", "name": "Pixel"})).await;
    let uuid = r.data()["device_uuid"].as_str().expect("uuid").to_owned();
    assert_eq!(r.data()["active"], true);
    let id = f.device_of(&uuid).await;
    assert_eq!(device(&f.db, id).await, (Some("tok:A-1".into()), true, None));

    // The same token again finds the same device; a rotated token replaces it there.
    let r = f.post("/push/token/", USER_TOKEN, json!({"firebase_token": "tok:A-1"})).await;
    assert_eq!(r.data()["device_uuid"], uuid.as_str());
    let r = f.post("/push/token/", USER_TOKEN, json!({"firebase_token": "tok:A-2", "device_uuid": uuid})).await;
    assert_eq!(r.data()["device_uuid"], uuid.as_str());
    assert_eq!(device(&f.db, id).await.0.as_deref(), Some("tok:A-2"));

    // A dead token turned the device off; registering a new one turns it back on.
    f.peer.script("tok:A-2", [nets_tests::fcm::Outcome::Unregistered]);
    f.push.send_to_user_now(1, Notification::new("a", "b")).await.expect("ran");
    assert!(!device(&f.db, id).await.1, "the dead token turned the device off");
    f.post("/push/token/", USER_TOKEN, json!({"firebase_token": "tok:A-3", "device_uuid": uuid})).await.data();
    assert_eq!(device(&f.db, id).await, (Some("tok:A-3".into()), true, None));

    // The install changes accounts: the token moves to bob's device, ada's loses it.
    let r = f.post("/push/token/", OTHER_TOKEN, json!({"firebase_token": "tok:A-3"})).await;
    let bobs = f.device_of(r.data()["device_uuid"].as_str().expect("uuid")).await;
    assert_ne!(bobs, id);
    assert_eq!(device(&f.db, id).await.0, None, "ada no longer gets what is sent to that phone");
    assert_eq!(device(&f.db, bobs).await.0.as_deref(), Some("tok:A-3"));

    // Someone else's device uuid is not the caller's.
    let r = f
        .post("/push/token/", USER_TOKEN, json!({"firebase_token": "tok:x", "device_uuid": uuid_of(&f, bobs).await}))
        .await;
    r.assert_invalid("device_uuid", "no device of yours has this uuid (log in from the device first)");
}

async fn uuid_of(f: &Fixture, device: i64) -> String {
    let uuid: uuid::Uuid =
        on_pool!(&f.db.db, |pool| sqlx::query_scalar("SELECT uuid FROM nets_user_device WHERE id = $1")
            .bind(device)
            .fetch_one(pool)
            .await)
        .expect("uuid");
    uuid.to_string()
}

#[tokio::test]
async fn bad_token_registrations_are_4xx_never_5xx() {
    let f = fixture().await;
    let anonymous = f.server.send(f.server.post_json("/push/token/", json!({"firebase_token": "t"}))).await;
    assert_eq!(anonymous.status, 401);
    f.post("/push/token/", USER_TOKEN, json!({})).await.assert_missing(&["firebase_token"]);
    f.post("/push/token/", USER_TOKEN, json!({"firebase_token": ""})).await.assert_missing(&["firebase_token"]);
    for bad in [json!("has space"), json!("semi;colon"), json!("x".repeat(4097)), json!({"a": 1}), json!("tok\u{0}")] {
        let r = f.post("/push/token/", USER_TOKEN, json!({"firebase_token": bad})).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.json["errors"].get("firebase_token").is_some(), "{}", r.text());
    }
    let r = f.post("/push/token/", USER_TOKEN, json!({"firebase_token": "ok", "device_uuid": "not-a-uuid"})).await;
    assert_eq!(r.status, 400);
    assert!(r.json["errors"].get("device_uuid").is_some(), "{}", r.text());
    let r =
        f.post("/push/token/", USER_TOKEN, json!({"firebase_token": "ok", "device_uuid": uuid::Uuid::new_v4()})).await;
    assert_eq!(r.status, 400);
    let r = f.post("/push/token/", USER_TOKEN, json!({"firebase_token": "ok", "name": "n".repeat(251)})).await;
    assert_eq!(r.status, 400);
    let r = f
        .server
        .send(
            f.server
                .post("/push/token/")
                .bearer_auth(USER_TOKEN)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let r = f.server.send(f.server.get("/push/token/").bearer_auth(USER_TOKEN)).await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn the_callers_notifications_are_listed_newest_first_and_marked_read() {
    let f = fixture().await;
    add_device(&f.db, 1, Some("tok-ada"), true).await;
    for i in 0..5 {
        f.push.send_to_user(1, Notification::new(format!("n{i}"), "body").data("i", json!(i))).await.expect("queued");
    }
    f.push.send_to_user(2, Notification::new("bob's", "private")).await.expect("queued");

    let page = f.server.send(f.server.get("/push/notifications/?page_size=2").bearer_auth(USER_TOKEN)).await;
    let data = page.data().as_array().expect("a list").clone();
    assert_eq!(page.json["extra"], json!({"page": 1, "page_size": 2, "total": 5, "pages": 3}));
    let titles: Vec<&str> = data.iter().filter_map(|n| n["title"].as_str()).collect();
    assert_eq!(titles, ["n4", "n3"]);
    assert_eq!(data[0]["data"], json!({"i": 4}));
    assert_eq!(data[0]["body"], "body");
    assert_eq!(data[0]["read_at"], Value::Null);
    let last = f.server.send(f.server.get("/push/notifications/?page_size=2&page=3").bearer_auth(USER_TOKEN)).await;
    assert_eq!(last.data().as_array().map(Vec::len), Some(1));
    // The original's `paginated_by`, and sizes beyond NETS_CORE_PAGE_SIZE_MAX reduced to it.
    let all = f.server.send(f.server.get("/push/notifications/?paginated_by=500").bearer_auth(USER_TOKEN)).await;
    assert_eq!((all.data().as_array().map(Vec::len), &all.json["extra"]["page_size"]), (Some(5), &json!(100)));

    // Mark two read (one of them bob's: not counted, not changed).
    let ids: Vec<i64> = data.iter().filter_map(|n| n["id"].as_i64()).collect();
    let bobs = f.server.send(f.server.get("/push/notifications/").bearer_auth(OTHER_TOKEN)).await;
    let bob_id = bobs.data()[0]["id"].as_i64().expect("bob's id");
    let r = f.post("/push/notifications/read/", USER_TOKEN, json!({"ids": [ids[0], ids[1], bob_id]})).await;
    r.assert_data(json!({"marked": 2}));
    let unread = f.server.send(f.server.get("/push/notifications/?unread=true").bearer_auth(USER_TOKEN)).await;
    assert_eq!(unread.json["extra"]["total"], 3);
    let bobs = f.server.send(f.server.get("/push/notifications/?unread=1").bearer_auth(OTHER_TOKEN)).await;
    assert_eq!(bobs.json["extra"]["total"], 1, "bob's notification is still unread");
    f.post("/push/notifications/read/", USER_TOKEN, json!({"all": true})).await.assert_data(json!({"marked": 3}));
    f.post("/push/notifications/read/", USER_TOKEN, json!({"all": true})).await.assert_data(json!({"marked": 0}));
    // A form body works as well as the query string.
    let r = f
        .server
        .send(f.server.post("/push/notifications/").bearer_auth(USER_TOKEN).form(&[("page", "1"), ("unread", "false")]))
        .await;
    assert_eq!(r.json["extra"]["total"], 5);
}

#[tokio::test]
async fn bad_listing_and_marking_requests_are_4xx_never_5xx() {
    let f = fixture().await;
    let get = |q: &str| f.server.send(f.server.get(&format!("/push/notifications/{q}")).bearer_auth(USER_TOKEN));
    for q in [
        "?page=0",
        "?page=-1",
        "?page=x",
        "?page_size=0",
        "?paginated_by=-3",
        "?unread=maybe",
        "?page=99999999999999999999",
    ] {
        let r = get(q).await;
        assert_eq!(r.status, 400, "{q}: {}", r.text());
    }
    assert_eq!(f.server.send(f.server.get("/push/notifications/")).await.status, 401);
    let mark = |body: Value| f.post("/push/notifications/read/", USER_TOKEN, body);
    mark(json!({})).await.assert_invalid("ids", "send the ids to mark read, or all = true");
    mark(json!({"ids": [1], "all": true})).await.assert_error(400, "send either ids or all, not both");
    for bad in [
        json!({"ids": []}),
        json!({"ids": ["x"]}),
        json!({"ids": "nope"}),
        json!({"ids": (0..501).collect::<Vec<_>>()}),
        json!({"all": "sure"}),
    ] {
        let r = mark(bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    mark(json!({"ids": [i64::MAX, -5]})).await.assert_data(json!({"marked": 0}));
    assert_eq!(f.server.send(f.server.post_json("/push/notifications/read/", json!({"all": true}))).await.status, 401);
}

#[tokio::test]
async fn the_endpoints_are_documented_with_the_rest() {
    let f = fixture().await;
    let doc = f.server.send(f.server.get("/openapi.json")).await;
    let paths = &doc.json["paths"];
    for path in ["/push/token/", "/push/notifications/", "/push/notifications/read/"] {
        assert!(paths.get(path).is_some(), "{path} missing from {}", doc.text());
    }
    let token = nets_tests::body_schema(&doc.json, "/push/token/", "post");
    assert!(token["properties"]["firebase_token"].is_object(), "{token}");
    assert!(token.to_string().contains("^[A-Za-z0-9_:.-]+$"), "the token rule is documented: {token}");
}

#[tokio::test]
async fn installing_push_without_a_database_is_refused_at_build() {
    let peer = FcmPeer::start().await;
    let push = push_common::push(&peer, &settings(&peer));
    let built = nets_tests::app(settings(&peer)).install(push).build();
    let error = built.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("the push module") && error.contains("database"), "{error}");
}
