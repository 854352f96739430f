//! Text PostgreSQL cannot store, and bytes that are not text (issue 11, item 13), on
//! generated endpoints: a NUL character (U+0000) in any parameter is a 400 naming it,
//! before the handler can write it (PostgreSQL answered SQLSTATE 22021, a 500); bytes
//! that are not UTF-8 in a form body or the query string are a 400 as they already were
//! in JSON and multipart bodies (they used to become U+FFFD silently). Runs on SQLite and,
//! with `NETS_TEST_DATABASE_URL`, on PostgreSQL, where the handler's write would fail.

use nets_runtime::build_urlpatterns;
use nets_tests::db::{TestDb, app_builder_with, exec, test_db};
use nets_tests::{TestServer, USER_TOKEN, bearer};
use serde_json::json;

mod api {
    use nets_runtime::db::Db;
    use nets_runtime::prelude::*;
    use serde_json::{Map, Value};

    /// Stores `text` (and the JSON of `meta`): a NUL reaching here would be a 500 on
    /// PostgreSQL.
    #[request_handler(path = "texts/", methods = [GET, POST])]
    async fn store(ctx: Ctx, text: String, meta: Option<Map<String, Value>>) -> ApiResult<String> {
        let meta = meta.map(|m| Value::Object(m).to_string()).unwrap_or_default();
        let stored = format!("{text}|{meta}");
        let sql = "INSERT INTO texts (body) VALUES ($1)";
        match ctx.db()? {
            Db::Sqlite(pool) => sqlx::query(sql).bind(&stored).execute(pool).await.map(drop),
            Db::Postgres(pool) => sqlx::query(sql).bind(&stored).execute(pool).await.map(drop),
        }
        .map_err(ApiError::internal)?;
        Ok(stored)
    }

    #[derive(Debug, serde::Deserialize, validator::Validate)]
    pub struct Profile {
        pub name: String,
    }

    #[request_handler(path = "profiles/", method = POST)]
    async fn profile(#[param(body)] profile: Profile) -> ApiResult<String> {
        Ok(profile.name)
    }

    #[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, NetsModel)]
    #[nets(table = "texts", index = "body")]
    pub struct Text {
        pub id: i64,
        pub body: String,
    }

    #[request_handler(path = "texts/{body}/", method = GET, model = Text)]
    async fn find(text: Text) -> ApiResult<i64> {
        Ok(text.id)
    }
}

async fn server() -> (TestDb, TestServer) {
    let db = test_db().await;
    let id = if db.schema().is_some() { "BIGSERIAL PRIMARY KEY" } else { "INTEGER PRIMARY KEY" };
    exec(&db, &format!("CREATE TABLE texts (id {id}, body TEXT NOT NULL)")).await;
    let app = app_builder_with(&db).authenticator(bearer());
    let server =
        TestServer::start(app.routes(build_urlpatterns!(self::api).expect("routes")).build().expect("app").router())
            .await;
    (db, server)
}

const NUL: &str = "must not contain the NUL character (U+0000)";

#[tokio::test]
async fn nul_characters_are_refused_naming_the_parameter() {
    let (_db, server) = server().await;
    let send = |request: reqwest::RequestBuilder| server.send(request.bearer_auth(USER_TOKEN));

    send(server.get("/texts/?text=a%00b")).await.assert_invalid("text", NUL);
    send(server.post("/texts/").form(&[("text", "a\0b")])).await.assert_invalid("text", NUL);
    send(server.post_json("/texts/", json!({"text": "a\u{0}b"}))).await.assert_invalid("text", NUL);
    let form = reqwest::multipart::Form::new().text("text", "a\0b");
    send(server.post("/texts/").multipart(form)).await.assert_invalid("text", NUL);
    // Inside an object, sent as an object or JSON-encoded in a string as clients do.
    let nested = json!({"text": "ok", "meta": {"name": "a\u{0}b"}});
    send(server.post_json("/texts/", nested)).await.assert_invalid("meta.name", NUL);
    let encoded = json!({"text": "ok", "meta": "{\"name\": \"a\\u0000b\"}"});
    send(server.post_json("/texts/", encoded)).await.assert_invalid("meta.name", NUL);
    // A whole-body structure, and a model's index value in the path.
    send(server.post_json("/profiles/", json!({"name": "a\u{0}b"}))).await.assert_invalid("name", NUL);
    send(server.get("/texts/a%00b/")).await.assert_invalid("body", NUL);

    // Clean text still goes through, and was stored.
    send(server.post_json("/texts/", json!({"text": "fine", "meta": {"k": 1}})))
        .await
        .assert_data(json!("fine|{\"k\":1}"));
    send(server.get("/texts/fine%7C%7B%22k%22%3A1%7D/")).await.assert_data(json!(1));
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_refused_not_replaced() {
    let (_db, server) = server().await;
    let send = |request: reqwest::RequestBuilder| server.send(request.bearer_auth(USER_TOKEN));
    let form = |body: &'static [u8]| {
        server.post("/texts/").header("content-type", "application/x-www-form-urlencoded").body(body)
    };

    send(form(b"text=\xff")).await.assert_invalid("text", "must be valid UTF-8");
    send(form(b"text=%FF")).await.assert_invalid("text", "must be valid UTF-8");
    send(server.get("/texts/?text=%FF")).await.assert_invalid("text", "must be valid UTF-8");
    let reply = send(form(b"te%FFxt=1")).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json["message"], "a parameter name in the form body is not valid UTF-8");
    // Encoded UTF-8 and `+` still decode.
    send(form(b"text=caf%C3%A9+noir")).await.assert_data(json!("café noir|"));
    // An undeclared query pair is never read, so its bytes do not matter.
    send(server.get("/texts/?text=ok&junk=%FF")).await.assert_data(json!("ok|"));
}
