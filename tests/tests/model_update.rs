//! `Update` (changed columns, `updated`, the `updated_fields` history) and foreign keys
//! expanded by `to_json_in`, on SQLite and (with `NETS_TEST_DATABASE_URL`) PostgreSQL.

use nets_runtime::db::{Backend, Db};
use nets_runtime::prelude::*;
use nets_runtime::{ApiError, build_urlpatterns};
use nets_tests::db::{TestDb, app_builder_with, empty_test_db, exec};
use nets_tests::{OTHER_TOKEN, TestServer, USER_TOKEN, bearer};
use serde_json::{Value, json};

mod api {
    use nets_runtime::prelude::*;
    use serde_json::{Map, Value};

    /// A person: `password` is globally protected, `pin` by the model.
    #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
    #[nets(table = "people", json_fields(id, name, manager), protected(pin))]
    pub struct Person {
        pub id: i64,
        pub name: String,
        pub password: String,
        pub pin: String,
        #[nets(references = Person)]
        pub manager_id: Option<i64>,
    }

    #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
    #[nets(table = "documents", json_fields(id, title, user), protected(secret), owner = "user_id")]
    pub struct Document {
        pub id: i64,
        #[nets(references = Person)]
        pub user_id: i64,
        pub title: String,
        pub pages: i64,
        pub secret: String,
        pub created: chrono::DateTime<chrono::Utc>,
        pub updated: chrono::DateTime<chrono::Utc>,
        pub updated_fields: sqlx::types::Json<Value>,
    }

    /// Relations are expanded by `to_json_in`: `?fields=` picks any of them.
    #[request_handler(path = "documents/{id}/", method = GET, model = Document)]
    pub async fn show_document(ctx: Ctx, document: Document, fields: Option<String>) -> ApiResult<Map<String, Value>> {
        let names: Vec<&str> =
            fields.as_deref().map(|f| f.split(',').filter(|n| !n.is_empty()).collect()).unwrap_or_default();
        document.to_json_in(&ctx, Fields::Only(&names)).await
    }

    #[request_handler(path = "people/{id}/", method = GET, model = Person, public, public_objects)]
    pub async fn show_person(ctx: Ctx, person: Person) -> ApiResult<Map<String, Value>> {
        person.to_json_in(&ctx, Fields::Default).await
    }

    /// Saves through `Update`: only the owner reaches the object (others get 404).
    #[request_handler(path = "documents/{id}/edit/", method = POST, model = Document)]
    pub async fn edit_document(
        ctx: Ctx,
        mut document: Document,
        title: String,
        pages: Option<i64>,
    ) -> ApiResult<Vec<&'static str>> {
        document
            .update(&ctx, |d| {
                d.title = title;
                if let Some(pages) = pages {
                    d.pages = pages;
                }
            })
            .await
    }
}

use api::{Document, Person};

async fn seeded_db() -> TestDb {
    let db = empty_test_db().await;
    let (timestamp, now, json) = match db.backend() {
        Backend::Sqlite => ("TEXT", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", "TEXT"),
        Backend::Postgres => ("TIMESTAMPTZ", "now()", "JSONB"),
    };
    exec(
        &db,
        "CREATE TABLE people (id BIGINT PRIMARY KEY, name TEXT NOT NULL, password TEXT NOT NULL, pin TEXT NOT NULL, \
         manager_id BIGINT)",
    )
    .await;
    // 1 ← 2 ← 3 is a chain of managers; 4 manages itself (a cycle); 5 has a manager that
    // does not exist.
    exec(
        &db,
        "INSERT INTO people (id, name, password, pin, manager_id) VALUES (1, 'Ada', 'pw-ada', '1111', NULL), \
         (2, 'Bob', 'pw-bob', '2222', 1), (3, 'Cy', 'pw-cy', '3333', 2), (4, 'Di', 'pw-di', '4444', 4), \
         (5, 'Ed', 'pw-ed', '5555', 99)",
    )
    .await;
    exec(
        &db,
        &format!(
            "CREATE TABLE documents (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, title TEXT NOT NULL, \
             pages BIGINT NOT NULL, secret TEXT NOT NULL, created {timestamp} NOT NULL DEFAULT ({now}), \
             updated {timestamp} NOT NULL DEFAULT ({now}), updated_fields {json} NOT NULL DEFAULT '{{}}')"
        ),
    )
    .await;
    exec(
        &db,
        "INSERT INTO documents (id, user_id, title, pages, secret) VALUES (1, 1, 'Plan', 3, 's3cret'), \
         (2, 2, 'Bob''s', 1, 'hidden')",
    )
    .await;
    db
}

async fn server() -> (TestServer, TestDb) {
    let db = seeded_db().await;
    let app = app_builder_with(&db).authenticator(bearer());
    let server =
        TestServer::start(app.routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app").router())
            .await;
    (server, db)
}

async fn load(db: &Db, id: i64) -> Option<Document> {
    let (sqlite, pg) = (
        "SELECT id, user_id, title, pages, secret, created, updated, updated_fields FROM documents WHERE id = ?",
        "SELECT id, user_id, title, pages, secret, created, updated, updated_fields FROM documents WHERE id = $1",
    );
    match db {
        Db::Sqlite(pool) => sqlx::query_as(sqlite).bind(id).fetch_optional(pool).await,
        Db::Postgres(pool) => sqlx::query_as(pg).bind(id).fetch_optional(pool).await,
    }
    .expect("select document")
}

fn settings() -> Settings {
    Settings::default()
}

#[tokio::test]
async fn update_writes_changed_columns_updated_and_history() {
    let db = seeded_db().await;
    let mut doc = load(&db, 1).await.expect("document 1");
    let (created, updated) = (doc.created, doc.updated);

    let changed = doc.update_in(&db, &settings(), |d| d.title = "Plan B".into()).await.unwrap();
    assert_eq!(changed, ["title"]);
    // `doc` was refreshed from the row, which now holds the change.
    let stored = load(&db, 1).await.unwrap();
    assert_eq!((doc.title.as_str(), stored.title.as_str()), ("Plan B", "Plan B"));
    assert_eq!((stored.pages, stored.created), (3, created));
    assert!(stored.updated >= updated, "updated moved from {updated} to {}", stored.updated);
    assert_eq!(doc.updated, stored.updated);
    let entries = &stored.updated_fields.0["title"];
    assert_eq!(entries.as_array().map(Vec::len), Some(1), "{entries}");
    assert_eq!((&entries[0]["old"], &entries[0]["new"]), (&json!("Plan"), &json!("Plan B")));
    let time = entries[0]["time"].as_str().expect("time");
    assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");

    // A second save appends; several fields in one save each get an entry.
    let changed = doc.update_in(&db, &settings(), |d| (d.title, d.pages) = ("Plan C".into(), 4)).await.unwrap();
    assert_eq!(changed, ["title", "pages"]);
    let history = load(&db, 1).await.unwrap().updated_fields.0;
    assert_eq!(history["title"].as_array().map(Vec::len), Some(2));
    assert_eq!(history["title"][1]["old"], json!("Plan B"));
    assert_eq!(history["pages"][0], json!({"old": 3, "new": 4, "time": history["pages"][0]["time"]}));
}

#[tokio::test]
async fn protected_fields_record_the_change_without_values() {
    let db = seeded_db().await;
    let mut doc = load(&db, 1).await.unwrap();
    doc.update_in(&db, &settings(), |d| d.secret = "new-secret".into()).await.unwrap();
    let stored = load(&db, 1).await.unwrap();
    assert_eq!(stored.secret, "new-secret");
    let history = stored.updated_fields.0.to_string();
    assert!(!history.contains("s3cret") && !history.contains("new-secret"), "{history}");
    assert_eq!(stored.updated_fields.0["secret"][0]["protected"], json!(true));
}

#[tokio::test]
async fn nothing_changed_means_no_write() {
    let db = seeded_db().await;
    let mut doc = load(&db, 1).await.unwrap();
    let before = doc.updated;
    assert!(doc.update_in(&db, &settings(), |d| d.title = "Plan".into()).await.unwrap().is_empty());
    let stored = load(&db, 1).await.unwrap();
    assert_eq!((stored.updated, stored.updated_fields.0.clone()), (before, json!({})));
}

#[tokio::test]
async fn the_index_and_created_cannot_be_changed_and_nothing_is_written() {
    let db = seeded_db().await;
    let mut doc = load(&db, 1).await.unwrap();
    let err = doc.update_in(&db, &settings(), |d| (d.id, d.title) = (2, "Hijack".into())).await.unwrap_err();
    assert_eq!(err.status().as_u16(), 500);
    let err = doc.update_in(&db, &settings(), |d| d.created = chrono::Utc::now()).await.unwrap_err();
    assert_eq!(err.status().as_u16(), 500);
    assert_eq!(load(&db, 1).await.unwrap().title, "Plan");
    assert_eq!(load(&db, 2).await.unwrap().title, "Bob's");
}

#[tokio::test]
async fn concurrent_saves_keep_each_others_history() {
    let db = seeded_db().await;
    let doc = load(&db, 1).await.unwrap();
    let (mut a, mut b) = (doc.clone(), doc);
    let settings = settings();
    let (ra, rb) = tokio::join!(
        a.update_in(&db, &settings, |d| d.title = "From A".into()),
        b.update_in(&db, &settings, |d| d.pages = 10),
    );
    ra.unwrap();
    rb.unwrap();
    let stored = load(&db, 1).await.unwrap();
    assert_eq!((stored.title.as_str(), stored.pages), ("From A", 10));
    let history = stored.updated_fields.0;
    assert_eq!(history["title"][0]["new"], json!("From A"));
    assert_eq!(history["pages"][0]["new"], json!(10));
}

#[tokio::test]
async fn a_deleted_row_is_a_404_and_a_null_history_starts_afresh() {
    let db = seeded_db().await;
    let mut doc = load(&db, 2).await.unwrap();
    exec(&db, "DELETE FROM documents WHERE id = 2").await;
    let err = doc.update_in(&db, &settings(), |d| d.pages = 2).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound), "{err:?}");

    // The original crashed on a NULL history; here it starts a new one.
    let json = if db.backend() == Backend::Sqlite { "TEXT" } else { "JSONB" };
    exec(&db, &format!("CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL, updated_fields {json})")).await;
    exec(&db, "INSERT INTO notes (id, body, updated_fields) VALUES (1, 'a', NULL)").await;
    #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
    #[nets(table = "notes")]
    struct Note {
        id: i64,
        body: String,
        updated_fields: Option<sqlx::types::Json<Value>>,
    }
    let select = "SELECT id, body, updated_fields FROM notes";
    let mut note: Note = match &*db {
        Db::Sqlite(pool) => sqlx::query_as(select).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_as(select).fetch_one(pool).await,
    }
    .unwrap();
    note.update_in(&db, &settings(), |n| n.body = "b".into()).await.unwrap();
    let history = note.updated_fields.expect("a history").0;
    assert_eq!(history["body"][0]["new"], json!("b"));
}

#[tokio::test]
async fn only_the_owner_saves_through_an_endpoint_and_values_are_bound() {
    let (s, db) = server().await;
    let hostile = "x'); DROP TABLE documents; --";
    let reply = s.send(s.post("/documents/1/edit/").bearer_auth(USER_TOKEN).json(&json!({"title": hostile}))).await;
    reply.assert_data(json!(["title"]));
    assert_eq!(load(&db, 1).await.unwrap().title, hostile);
    // String-encoded numbers, as mobile clients send them.
    let reply =
        s.send(s.post("/documents/1/edit/").bearer_auth(USER_TOKEN).form(&[("title", hostile), ("pages", "7")])).await;
    reply.assert_data(json!(["pages"]));
    // Someone else's document: 404, and nothing is written.
    let reply = s.send(s.post("/documents/1/edit/").bearer_auth(OTHER_TOKEN).json(&json!({"title": "mine"}))).await;
    reply.assert_error(404, "not found");
    let stored = load(&db, 1).await.unwrap();
    assert_eq!((stored.title.as_str(), stored.pages), (hostile, 7));
}

#[tokio::test]
async fn foreign_keys_expand_to_the_related_models_json() {
    let (s, _db) = server().await;
    let get = |path: &'static str| s.send(s.get(path).bearer_auth(USER_TOKEN));
    // Default fields list the relation: the owner's own default fields, no password/pin.
    get("/documents/1/?fields=").await.assert_data(json!({
        "id": 1, "title": "Plan", "user": {"id": 1, "name": "Ada", "manager": null}
    }));
    get("/documents/1/?fields=user_id,user").await.assert_data(json!({
        "user_id": 1, "user": {"id": 1, "name": "Ada", "manager": null}
    }));
    // `__all__` is every column, protected ones left out, and expands nothing.
    let all = get("/documents/1/?fields=__all__").await;
    let data = all.data();
    assert_eq!(data["user_id"], json!(1));
    assert!(data.get("user").is_none() && data.get("secret").is_none(), "{data}");
    for (fields, name) in [("user.password", "user.password"), ("manager", "manager"), ("secret", "secret")] {
        let path = format!("/documents/1/?fields={fields}");
        s.send(s.get(&path).bearer_auth(USER_TOKEN)).await.assert_invalid("fields", &format!("unknown field '{name}'"));
    }
}

#[tokio::test]
async fn nested_relations_stop_at_depth_three_and_missing_rows_are_null() {
    let (s, _db) = server().await;
    let text = s.send(s.get("/people/3/")).await.data().to_string();
    assert!(!text.contains("pw-") && !text.contains("3333"), "protected fields leaked: {text}");
    s.send(s.get("/people/3/")).await.assert_data(json!({
        "id": 3, "name": "Cy", "manager": {"id": 2, "name": "Bob", "manager": {"id": 1, "name": "Ada", "manager": null}}
    }));
    // A cycle is cut at depth 3, where the relation is its key.
    s.send(s.get("/people/4/")).await.assert_data(json!({
        "id": 4, "name": "Di", "manager": {"id": 4, "name": "Di", "manager": {"id": 4, "name": "Di", "manager":
            {"id": 4, "name": "Di", "manager": 4}}}
    }));
    s.send(s.get("/people/5/")).await.assert_data(json!({"id": 5, "name": "Ed", "manager": null}));
}

#[tokio::test]
async fn to_json_without_a_context_refuses_relations() {
    let db = seeded_db().await;
    let doc = load(&db, 1).await.unwrap();
    let err = doc.to_json(&settings(), Fields::Default).unwrap_err();
    assert_eq!(err, nets_runtime::ModelError::Relation("user".into()));
    let person = Person { id: 9, name: "Zed".into(), password: "pw".into(), pin: "0".into(), manager_id: None };
    let json = person.to_json(&settings(), Fields::Only(&["id", "name", "manager_id"])).unwrap();
    assert_eq!(Value::Object(json), json!({"id": 9, "name": "Zed", "manager_id": null}));
}
