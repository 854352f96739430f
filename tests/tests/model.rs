//! `#[derive(NetsModel)]` end to end: objects loaded from a real database (SQLite, or
//! PostgreSQL with `NETS_TEST_DATABASE_URL`) by `#[request_handler(model = ..)]`, with
//! ownership, permissions, bad and hostile index values, and `to_json` field selection.

use nets_runtime::build_urlpatterns;
use nets_tests::db::{TestDb, app_builder_with, empty_test_db, exec};
use nets_tests::{ADMIN_TOKEN, OTHER_TOKEN, TestServer, USER_TOKEN, bearer};
use serde_json::{Value, json};

mod api {
    use nets_runtime::prelude::*;

    #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
    #[nets(
        table = "invoices",
        json_fields(id, title, total),
        protected(internal_note),
        owner = "user_id",
        index = "id"
    )]
    pub struct Invoice {
        pub id: i64,
        pub user_id: i64,
        pub title: String,
        pub total: i64,
        pub internal_note: String,
    }

    /// Owner may be absent: such notes are visible to every signed-in user.
    #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
    #[nets(table = "shared_notes", owner = "author_id")]
    pub struct SharedNote {
        pub id: i64,
        pub author_id: Option<i64>,
        pub body: String,
    }

    #[request_handler(path = "invoices/{id}/", method = GET, model = Invoice)]
    pub async fn show_invoice(invoice: Invoice, ctx: Ctx) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
        Ok(invoice.to_json(ctx.settings(), Fields::Default)?)
    }

    #[request_handler(path = "audit/invoices/{id}/", method = GET, model = Invoice, can_do = "invoices.audit")]
    pub async fn audit_invoice(invoice: Invoice) -> ApiResult<i64> {
        Ok(invoice.id)
    }

    #[request_handler(path = "public/invoices/{id}/", method = GET, model = Invoice, public, public_objects)]
    pub async fn public_invoice(invoice: Invoice) -> ApiResult<i64> {
        Ok(invoice.id)
    }

    #[request_handler(path = "invoice-lookup/", methods = [GET, POST], model = Invoice)]
    pub async fn lookup_invoice(invoice: Invoice) -> ApiResult<i64> {
        Ok(invoice.id)
    }

    /// Another column as the index (a `String`): still static SQL and a bound value.
    #[request_handler(path = "invoices-by-title/{title}/", method = GET, model = Invoice, index_field = "title")]
    pub async fn invoice_by_title(invoice: Invoice) -> ApiResult<i64> {
        Ok(invoice.id)
    }

    /// A name that is no column of the model: a programming error, so a 500.
    #[request_handler(path = "invoices-by-color/{color}/", method = GET, model = Invoice, index_field = "color")]
    pub async fn invoice_by_color(invoice: Invoice) -> ApiResult<i64> {
        Ok(invoice.id)
    }

    /// `?fields=a,b` picks the fields; `__all__` is every unprotected one.
    #[request_handler(path = "invoice-fields/{id}/", method = GET, model = Invoice)]
    pub async fn invoice_fields(
        invoice: Invoice,
        ctx: Ctx,
        fields: String,
    ) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
        let names: Vec<&str> = fields.split(',').map(str::trim).collect();
        Ok(invoice.to_json(ctx.settings(), Fields::Only(&names))?)
    }

    #[request_handler(path = "notes/{id}/", method = GET, model = SharedNote)]
    pub async fn show_note(note: SharedNote) -> ApiResult<SharedNote> {
        Ok(note)
    }
}

async fn seeded_db() -> TestDb {
    let db = empty_test_db().await;
    exec(
        &db,
        "CREATE TABLE invoices (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, title TEXT NOT NULL, \
         total BIGINT NOT NULL, internal_note TEXT NOT NULL)",
    )
    .await;
    exec(
        &db,
        "INSERT INTO invoices (id, user_id, title, total, internal_note) VALUES \
         (1, 1, 'Rent', 900, 'paid late'), (2, 2, 'Bob''s gym', 40, 'disputed')",
    )
    .await;
    exec(&db, "CREATE TABLE shared_notes (id BIGINT PRIMARY KEY, author_id BIGINT, body TEXT NOT NULL)").await;
    exec(&db, "INSERT INTO shared_notes (id, author_id, body) VALUES (1, NULL, 'for all'), (2, 2, 'bob only')").await;
    db
}

/// The server and its database (kept alive for the test's duration).
async fn server() -> (TestServer, TestDb) {
    let db = seeded_db().await;
    let app = app_builder_with(&db).authenticator(bearer());
    let server =
        TestServer::start(app.routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app").router())
            .await;
    (server, db)
}

async fn get(s: &TestServer, token: Option<&str>, path: &str) -> nets_tests::Reply {
    let request = s.get(path);
    s.send(match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    })
    .await
}

fn invoice_1() -> Value {
    json!({"id": 1, "title": "Rent", "total": 900})
}

#[tokio::test]
async fn the_owner_gets_the_object_with_its_json_fields() {
    let (s, _db) = server().await;
    get(&s, Some(USER_TOKEN), "/invoices/1/").await.assert_data(invoice_1());
    get(&s, Some(OTHER_TOKEN), "/invoices/2/").await.assert_data(json!({"id": 2, "title": "Bob's gym", "total": 40}));
}

#[tokio::test]
async fn another_users_object_is_a_404() {
    let (s, _db) = server().await;
    get(&s, Some(OTHER_TOKEN), "/invoices/1/").await.assert_error(404, "not found");
    // Without `can_do`, being a superuser does not lift ownership.
    get(&s, Some(ADMIN_TOKEN), "/invoices/1/").await.assert_error(404, "not found");
    get(&s, None, "/invoices/1/")
        .await
        .assert_exact(401, json!({"res": 0, "message": "authentication required", "data": null}));
}

#[tokio::test]
async fn a_permitted_caller_reaches_any_object() {
    let (s, _db) = server().await;
    get(&s, Some(ADMIN_TOKEN), "/audit/invoices/1/").await.assert_data(json!(1));
    get(&s, Some(ADMIN_TOKEN), "/audit/invoices/2/").await.assert_data(json!(2));
    get(&s, Some(USER_TOKEN), "/audit/invoices/2/").await.assert_error(404, "not found");
    get(&s, Some(USER_TOKEN), "/audit/invoices/1/").await.assert_data(json!(1));
}

#[tokio::test]
async fn public_endpoints_load_without_an_owner_check() {
    let (s, _db) = server().await;
    get(&s, None, "/public/invoices/2/").await.assert_data(json!(2));
    get(&s, Some(USER_TOKEN), "/public/invoices/2/").await.assert_data(json!(2));
    get(&s, None, "/public/invoices/3/").await.assert_error(404, "not found");
}

#[tokio::test]
async fn unknown_non_numeric_and_hostile_ids_are_404s() {
    let (s, _db) = server().await;
    for path in [
        "/invoices/99/",
        "/invoices/abc/",
        "/invoices/1.5/",
        "/invoices/99999999999999999999999/",
        "/public/invoices/1%20OR%201=1/",
        "/public/invoices/1;%20DROP%20TABLE%20invoices/",
        "/invoice-lookup/?id=1%20OR%201=1",
        "/invoice-lookup/?id=2'--",
    ] {
        get(&s, Some(USER_TOKEN), path).await.assert_error(404, "not found");
    }
    // A string column: the hostile text is a bound value, matching nothing.
    get(&s, Some(USER_TOKEN), "/invoices-by-title/x'%20OR%20'1'='1/").await.assert_error(404, "not found");
    // The table is still there.
    get(&s, Some(USER_TOKEN), "/invoices/1/").await.assert_data(invoice_1());
}

#[tokio::test]
async fn a_missing_index_is_a_400() {
    let (s, _db) = server().await;
    get(&s, Some(USER_TOKEN), "/invoice-lookup/")
        .await
        .assert_field_errors("Missing params: id", json!({"id": ["required to look up the object"]}));
    s.send(s.post("/invoice-lookup/").bearer_auth(USER_TOKEN).json(&json!({"id": 1}))).await.assert_data(json!(1));
}

#[tokio::test]
async fn other_columns_can_be_the_index_and_unknown_ones_are_500s() {
    let (s, _db) = server().await;
    get(&s, Some(USER_TOKEN), "/invoices-by-title/Rent/").await.assert_data(json!(1));
    get(&s, Some(USER_TOKEN), "/invoices-by-title/Bob's%20gym/").await.assert_error(404, "not found");
    let reply = get(&s, Some(USER_TOKEN), "/invoices-by-color/red/").await;
    assert_eq!(reply.status, 500, "{}", reply.text());
}

#[tokio::test]
async fn optional_owners_restrict_only_owned_objects() {
    let (s, _db) = server().await;
    let note = get(&s, Some(USER_TOKEN), "/notes/1/").await;
    note.assert_data(json!({"id": 1, "author_id": null, "body": "for all"}));
    get(&s, Some(USER_TOKEN), "/notes/2/").await.assert_error(404, "not found");
    get(&s, Some(OTHER_TOKEN), "/notes/2/").await.assert_data(json!({"id": 2, "author_id": 2, "body": "bob only"}));
}

#[tokio::test]
async fn requested_fields_are_checked_and_protected_ones_never_leak() {
    let (s, _db) = server().await;
    let picked = get(&s, Some(USER_TOKEN), "/invoice-fields/1/?fields=total,title").await;
    picked.assert_data(json!({"total": 900, "title": "Rent"}));
    // In the order asked for, and every field in declared order (issue 17, item 11).
    assert!(picked.text().contains(r#""data":{"total":900,"title":"Rent"}"#), "{}", picked.text());
    let all = get(&s, Some(USER_TOKEN), "/invoice-fields/1/?fields=__all__").await;
    all.assert_data(json!({"id": 1, "user_id": 1, "title": "Rent", "total": 900}));
    assert!(all.text().contains(r#"{"id":1,"user_id":1,"title":"Rent","total":900}"#), "{}", all.text());
    for (fields, name) in [
        ("id,internal_note", "internal_note"),
        ("INTERNAL_NOTE", "INTERNAL_NOTE"),
        ("password", "password"),
        ("id,user_id%20FROM%20nets_access_token--", "user_id FROM nets_access_token--"),
        ("owner_id", "owner_id"),
    ] {
        let problem = format!("unknown field '{name}'");
        get(&s, Some(USER_TOKEN), &format!("/invoice-fields/1/?fields={fields}"))
            .await
            .assert_invalid("fields", &problem);
    }
}
