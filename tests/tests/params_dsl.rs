//! The parameter options nets' own modules needed, over HTTP for any app:
//! `#[param(rest)]` (every undeclared key), `#[param(secret)]` (never from the query
//! string), `#[param(name_from = ..)]` (a name the settings choose), `body_limit`, and
//! the endpoint keys for other wire protocols: `errors` and `openapi`.

use nets_runtime::build_urlpatterns;
use nets_tests::{TestServer, app, settings};
use serde_json::json;

mod api {
    use axum::response::{IntoResponse, Response};
    use nets_runtime::openapi::{Components, Operation};
    use nets_runtime::prelude::*;
    use serde_json::{Map, Value};

    #[request_handler(path = "dsl/echo/", methods = [GET, POST], public)]
    pub async fn echo(name: String, #[param(rest)] extra: Map<String, Value>) -> ApiResult<Value> {
        Ok(serde_json::json!({"name": name, "extra": extra}))
    }

    #[request_handler(path = "dsl/redeem/", method = POST, public)]
    pub async fn redeem(#[param(secret)] token: String, label: Option<String>) -> ApiResult<Value> {
        Ok(serde_json::json!({"token": token.len(), "label": label}))
    }

    /// `email` or `username`, as the settings say.
    fn login_name(settings: &Settings) -> Option<&'static str> {
        Some(settings.user_identifier.column())
    }

    #[request_handler(path = "dsl/who/", method = POST, public)]
    pub async fn who(#[param(name_from = login_name)] login: String) -> ApiResult<String> {
        Ok(login)
    }

    fn tiny(_: &App) -> usize {
        32
    }

    #[request_handler(path = "dsl/tiny/", method = POST, public, body_limit = tiny)]
    pub async fn small(text: String) -> ApiResult<usize> {
        Ok(text.len())
    }

    /// An RFC 9457 problem document instead of nets' envelope, keeping nets' status and
    /// headers.
    fn problem(error: ApiError) -> Response {
        let status = error.status();
        let mut response = error.into_response();
        let body = serde_json::json!({"type": "about:blank", "status": status.as_u16(), "detail": error_text(status, &response)});
        *response.body_mut() = axum::body::Body::from(body.to_string());
        response.headers_mut().insert("content-type", axum::http::HeaderValue::from_static("application/problem+json"));
        response
    }

    /// The status's reason and whether nets sent a challenge, for the test to read.
    fn error_text(status: axum::http::StatusCode, response: &Response) -> String {
        let challenge = response.headers().contains_key("www-authenticate");
        format!("{} (challenge: {challenge})", status.canonical_reason().unwrap_or(""))
    }

    /// Marks the operation, and adds a response the generated one does not have.
    fn webhook_operation(op: &mut Operation, _: &mut Components) {
        use nets_runtime::utoipa::openapi::{self, extensions::ExtensionsBuilder};
        op.extensions
            .get_or_insert_with(Default::default)
            .merge(ExtensionsBuilder::new().add("x-webhook", true).build());
        op.responses.responses.insert("202".into(), openapi::Response::new("Queued").into());
    }

    #[request_handler(path = "dsl/hook/", method = POST, errors = problem, openapi = webhook_operation, body_limit = tiny)]
    pub async fn hook(event: String, attempt: u8) -> ApiResult<String> {
        match event.as_str() {
            // The handler's own errors are its own: the envelope here.
            "fail" => Err(ApiError::bad_request("event refused")),
            _ => Ok(format!("{event} #{attempt}")),
        }
    }
}

async fn server(toml: &str) -> TestServer {
    let app = app(settings(toml)).routes(build_urlpatterns!(self::api).expect("routes")).build().expect("app");
    TestServer::start(app.router()).await
}

#[tokio::test]
async fn a_rest_parameter_takes_every_undeclared_key_from_every_source() {
    let s = server("").await;
    let reply = s.send(s.post_json("/dsl/echo/?page=2", json!({"name": "ada", "colour": "blue", "n": 5}))).await;
    reply.assert_data(json!({"name": "ada", "extra": {"colour": "blue", "n": 5, "page": "2"}}));
    // The body wins over the query for one key; repeated query keys are a list.
    let reply = s.send(s.post_json("/dsl/echo/?colour=red&t=a&t=b", json!({"name": "x", "colour": "blue"}))).await;
    reply.assert_data(json!({"name": "x", "extra": {"colour": "blue", "t": ["a", "b"]}}));
    let reply = s.send(s.get("/dsl/echo/?name=ada&q=1")).await;
    reply.assert_data(json!({"name": "ada", "extra": {"q": "1"}}));
    // A file cannot be a JSON value; NUL is refused where it is.
    let form = reqwest::multipart::Form::new()
        .text("name", "ada")
        .part("photo", reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\n".to_vec()).file_name("a.png"));
    s.send(s.post("/dsl/echo/").multipart(form)).await.assert_invalid("photo", "a file is not accepted here");
    let reply = s.send(s.post_json("/dsl/echo/", json!({"name": "ada", "bad": "a\u{0}b"}))).await;
    reply.assert_invalid("bad", "must not contain the NUL character (U+0000)");
    // Documented as free-form.
    let doc = s.send(s.get("/openapi.json")).await.json;
    let body = nets_tests::body_schema(&doc, "/dsl/echo/", "post");
    assert_eq!(body["additionalProperties"], json!(true), "{body}");
    assert_eq!(body["required"], json!(["name"]), "{body}");
}

#[tokio::test]
async fn a_secret_is_refused_in_the_query_string_and_taken_from_the_body() {
    let s = server("").await;
    let reply = s.send(s.post_json("/dsl/redeem/?token=abc", json!({"token": "abc"}))).await;
    reply.assert_invalid("token", "send it in the request body, never in the URL (query strings are logged)");
    let reply = s.send(s.post_json("/dsl/redeem/?label=x", json!({"token": "abcd"}))).await;
    reply.assert_data(json!({"token": 4, "label": "x"}));
    // Also percent-encoded.
    let reply = s.send(s.post_json("/dsl/redeem/?%74oken=abc", json!({"token": "abc"}))).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
}

#[tokio::test]
async fn a_name_from_the_settings_is_the_wire_name_and_the_documented_one() {
    let s = server("").await;
    s.send(s.post_json("/dsl/who/", json!({"email": "ada@x.io"}))).await.assert_data(json!("ada@x.io"));
    s.send(s.post_json("/dsl/who/", json!({"login": "ada"}))).await.assert_missing(&["email"]);
    let s = server("NETS_CORE_USER_IDENTIFIER = 'username'").await;
    s.send(s.post_json("/dsl/who/", json!({"username": "ada"}))).await.assert_data(json!("ada"));
    let doc = s.send(s.get("/openapi.json")).await.json;
    let body = nets_tests::body_schema(&doc, "/dsl/who/", "post");
    assert_eq!(body["required"], json!(["username"]), "{body}");
}

#[tokio::test]
async fn an_endpoint_body_limit_replaces_the_global_one() {
    let s = server("").await;
    s.send(s.post_json("/dsl/tiny/", json!({"text": "short"}))).await.assert_data(json!(5));
    let reply = s.send(s.post_json("/dsl/tiny/", json!({"text": "x".repeat(64)}))).await;
    assert_eq!(reply.status, 413, "{}", reply.text());
}

#[tokio::test]
async fn an_endpoint_writes_the_pipelines_refusals_in_its_own_shape() {
    let s = server("").await;
    let token = nets_tests::USER_TOKEN;
    let post = |body: serde_json::Value| s.post_json("/dsl/hook/", body).bearer_auth(token);
    let reply = s.send(post(json!({"event": "push", "attempt": "2"}))).await;
    reply.assert_data(json!("push #2"));
    // Missing and invalid parameters, a wrong method, a body too large, no credentials:
    // nets' status and headers, the endpoint's body.
    let problem = |reply: &nets_tests::Reply, status: u16, detail: &str| {
        assert_eq!(reply.status, status, "{}", reply.text());
        assert_eq!(reply.header("content-type"), Some("application/problem+json"));
        assert_eq!(reply.json["status"], status, "{}", reply.text());
        assert_eq!(reply.json["detail"], detail, "{}", reply.text());
        assert!(reply.json.get("res").is_none(), "no envelope: {}", reply.text());
    };
    problem(&s.send(post(json!({"event": "push"}))).await, 400, "Bad Request (challenge: false)");
    problem(&s.send(post(json!({"event": "push", "attempt": "300"}))).await, 400, "Bad Request (challenge: false)");
    let get = s.send(s.get("/dsl/hook/").bearer_auth(token)).await;
    problem(&get, 405, "Method Not Allowed (challenge: false)");
    assert_eq!(get.header("allow"), Some("POST"));
    problem(
        &s.send(post(json!({"event": "x".repeat(64), "attempt": 1}))).await,
        413,
        "Payload Too Large (challenge: false)",
    );
    let anonymous = s.send(s.post_json("/dsl/hook/", json!({"event": "push", "attempt": 1}))).await;
    problem(&anonymous, 401, "Unauthorized (challenge: true)");
    // What the handler returns is not touched.
    s.send(post(json!({"event": "fail", "attempt": 1}))).await.assert_error(400, "event refused");
    // `openapi = ..` adjusted the generated operation.
    let doc = s.send(s.get("/openapi.json")).await.json;
    let operation = &doc["paths"]["/dsl/hook/"]["post"];
    assert_eq!(operation["x-webhook"], true, "{operation}");
    assert_eq!(operation["responses"]["202"]["description"], "Queued");
    assert!(nets_tests::body_schema(&doc, "/dsl/hook/", "post")["properties"]["attempt"].is_object());
}
