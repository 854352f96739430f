//! `Decimal` as a parameter (JSON numbers, numeric strings) and as a model column
//! (SQLite text, PostgreSQL `NUMERIC`), saved with `Update` and answered as JSON, on
//! SQLite and (with `NETS_TEST_DATABASE_URL`) PostgreSQL.

use nets_runtime::build_urlpatterns;
use nets_runtime::db::{Backend, Db};
use nets_tests::db::{TestDb, app_builder_with, empty_test_db, exec};
use nets_tests::{Reply, TestServer, USER_TOKEN, bearer};
use serde_json::{Value, json};

mod api {
    use nets_runtime::decimal::{Decimal, rust_decimal};
    use nets_runtime::prelude::*;

    #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
    #[nets(table = "invoices", owner = "user_id")]
    pub struct Invoice {
        pub id: i64,
        pub user_id: i64,
        pub amount: Decimal,
        #[serde(with = "nets_runtime::decimal::as_string")]
        pub tax: Decimal,
    }

    /// Sets the amount (and the tax at 21 %, rounded to cents) of an owned invoice.
    #[request_handler(path = "invoices/{id}/amount/", method = POST, model = Invoice)]
    pub async fn set_amount(ctx: Ctx, mut invoice: Invoice, amount: Decimal) -> ApiResult<Invoice> {
        let tax = (*amount * rust_decimal::Decimal::new(21, 2)).round_dp(2);
        invoice.update(&ctx, |i| (i.amount, i.tax) = (amount, tax.into())).await?;
        Ok(invoice)
    }

    /// Echoes a plain `rust_decimal::Decimal` parameter as exact text.
    #[request_handler(path = "decimal/echo/", method = POST, public)]
    pub async fn echo(value: rust_decimal::Decimal) -> ApiResult<String> {
        Ok(value.to_string())
    }
}

async fn seeded() -> TestDb {
    let db = empty_test_db().await;
    let numeric = match db.backend() {
        Backend::Sqlite => "TEXT",
        Backend::Postgres => "NUMERIC",
    };
    exec(
        &db,
        &format!(
            "CREATE TABLE invoices (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, amount {numeric} NOT NULL, \
             tax {numeric} NOT NULL)"
        ),
    )
    .await;
    // User 1 is the one `USER_TOKEN` authenticates.
    exec(&db, "INSERT INTO invoices (id, user_id, amount, tax) VALUES (1, 1, '100.10', '21.02')").await;
    db
}

async fn server() -> (TestServer, TestDb) {
    let db = seeded().await;
    let app = app_builder_with(&db).authenticator(bearer());
    let router = app.routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app").router();
    (TestServer::start(router).await, db)
}

/// `POST /invoices/1/amount/` as the owner, with a JSON body.
async fn set_amount(server: &TestServer, body: Value) -> Reply {
    server.send(server.post_json("/invoices/1/amount/", body).bearer_auth(USER_TOKEN)).await
}

async fn stored(db: &Db) -> (String, String) {
    let sql = "SELECT CAST(amount AS TEXT), CAST(tax AS TEXT) FROM invoices WHERE id = 1";
    nets_runtime::on_pool!(db, |pool| sqlx::query_as(sql).fetch_one(pool).await).expect("invoice 1")
}

#[tokio::test]
async fn a_string_amount_is_stored_and_answered_exactly() {
    let (server, db) = server().await;
    let reply = set_amount(&server, json!({"amount": "1234.50"})).await;
    let (status, body) = (reply.status, reply.json);
    assert_eq!(status, 200, "{body}");
    // The default JSON form is a number (as the original's to_json); `tax` asked for text.
    // 1234.50 × 0.21 = 259.245: `round_dp` rounds half to even.
    assert_eq!(body["data"], json!({"id": 1, "user_id": 1, "amount": 1234.5, "tax": "259.24"}));
    let (amount, tax) = stored(&db).await;
    assert_eq!(amount.trim_end_matches('0').trim_end_matches('.'), "1234.5");
    assert_eq!(tax.trim_end_matches('0'), "259.24");
}

#[tokio::test]
async fn a_json_number_keeps_the_digits_the_client_wrote() {
    let (server, db) = server().await;
    let reply = set_amount(&server, json!({"amount": 0.1})).await;
    let (status, body) = (reply.status, reply.json);
    assert_eq!(status, 200, "{body}");
    assert_eq!((&body["data"]["amount"], &body["data"]["tax"]), (&json!(0.1), &json!("0.02")));
    assert!(stored(&db).await.0.starts_with("0.1"), "{:?}", stored(&db).await);
    // A form body and a query string carry text.
    let form = server
        .post("/invoices/1/amount/")
        .bearer_auth(USER_TOKEN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("amount=19.99");
    let reply = server.send(form).await;
    let (status, body) = (reply.status, reply.json);
    assert_eq!((status, &body["data"]["amount"]), (200, &json!(19.99)), "{body}");
}

#[tokio::test]
async fn more_digits_than_a_double_holds_come_back_as_text_not_rounded() {
    let (server, db) = server().await;
    let precise = "1234567890123456789.12345678";
    let reply = set_amount(&server, json!({"amount": precise})).await;
    let (status, body) = (reply.status, reply.json);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["amount"], json!(precise));
    assert_eq!(stored(&db).await.0, precise);
    // A change in the last digit is a change (Update compares the JSON forms).
    let next = "1234567890123456789.12345679";
    let reply = set_amount(&server, json!({"amount": next})).await;
    let (status, body) = (reply.status, reply.json);
    assert_eq!((status, &body["data"]["amount"]), (200, &json!(next)), "{body}");
    assert_eq!(stored(&db).await.0, next);
}

#[tokio::test]
async fn bad_decimals_are_400s_that_name_the_parameter_and_write_nothing() {
    let (server, db) = server().await;
    let cases: [(Value, &str); 5] = [
        (json!("12,50"), "expected a decimal number (e.g. 12.30), got \"12,50\""),
        (json!("NaN"), "expected a decimal number"),
        (json!("1e40"), "does not fit a decimal"),
        (json!("99999999999999999999999999999999"), "does not fit a decimal"),
        (json!(true), "expected a decimal number"),
    ];
    for (amount, problem) in cases {
        let reply = set_amount(&server, json!({"amount": amount})).await;
        let (status, body) = (reply.status, reply.json);
        assert_eq!(status, 400, "{amount}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("amount") && message.contains(problem), "{amount}: {body}");
    }
    assert_eq!(stored(&db).await.0.trim_end_matches('0'), "100.1");
}

#[tokio::test]
async fn a_plain_rust_decimal_parameter_and_its_openapi_schema() {
    let (server, _db) = server().await;
    let reply = server.send(server.post_json("/decimal/echo/", json!({"value": "3.50"}))).await;
    let (status, body) = (reply.status, reply.json);
    assert_eq!((status, &body["data"]), (200, &json!("3.50")), "{body}");
    let reply = server.send(server.post_json("/decimal/echo/", json!({"value": 2.25}))).await;
    let (status, body) = (reply.status, reply.json);
    assert_eq!((status, &body["data"]), (200, &json!("2.25")), "{body}");

    let doc = server.send(server.get("/openapi.json")).await.json;
    let schema = nets_tests::body_schema(&doc, "/decimal/echo/", "post");
    assert_eq!(schema["properties"]["value"]["type"], json!("number"), "{schema}");
    assert_eq!(schema["properties"]["value"]["format"], json!("decimal"), "{schema}");
}
