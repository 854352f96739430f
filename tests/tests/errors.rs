//! Error replies: missing and invalid parameters, validation rules, malformed and
//! oversized bodies, unknown routes and internal errors. Every failure a client can
//! cause is a 4xx naming the problem; a server fault is a 500 carrying the request id.

use nets_runtime::build_urlpatterns;
use nets_tests::{TestServer, USER_TOKEN, app, settings};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

mod api {
    use nets_runtime::prelude::*;
    use serde::{Deserialize, Serialize};
    use serde_json::{Value, json};
    use validator::{Validate, ValidationError};

    #[request_handler(path = "create/", methods = [GET, POST], public)]
    async fn create(
        zeta: String,
        alpha: i64,
        #[param(default = 1)] page: i64,
        note: Option<String>,
    ) -> ApiResult<Value> {
        Ok(json!({"zeta": zeta, "alpha": alpha, "page": page, "note": note}))
    }

    #[request_handler(path = "pair/", methods = [GET, POST], public)]
    async fn pair(a: i64, b: bool) -> ApiResult<Value> {
        Ok(json!({"a": a, "b": b}))
    }

    fn not_reserved(name: &String) -> Result<(), ValidationError> {
        if name == "admin" {
            return Err(ValidationError::new("reserved").with_message("this name is reserved".into()));
        }
        Ok(())
    }

    fn even(n: &i64) -> Result<(), ValidationError> {
        if n % 2 == 0 { Ok(()) } else { Err(ValidationError::new("even")) }
    }

    /// Only the caller's own id passes (a rule that needs the request context).
    fn is_caller(id: &i64, ctx: &Ctx) -> Result<(), ValidationError> {
        match ctx.user() {
            Some(user) if user.id == *id => Ok(()),
            _ => Err(ValidationError::new("caller").with_message("must be your own user id".into())),
        }
    }

    #[request_handler(path = "rules/", method = POST, public)]
    #[allow(clippy::too_many_arguments)]
    async fn rules(
        #[param(validate(email))] contact: Option<String>,
        #[param(validate(url))] site: Option<String>,
        #[param(validate(length(min = 2, max = 5)))] code: Option<String>,
        #[param(validate(length(equal = 3)))] triple: Option<Vec<i32>>,
        #[param(validate(length(max = 2)))] short: Option<String>,
        #[param(validate(range(min = 1, max = 10)))] level: Option<i64>,
        #[param(validate(range(exclusive_min = 0.0)))] ratio: Option<f64>,
        #[param(validate(regex = "^[A-Z]{2}$"))] country: Option<String>,
        #[param(validate(custom(function = not_reserved)))] username: Option<String>,
        #[param(validate(custom(function = even)))] pairs: Option<i64>,
        #[param(validate(custom(function = is_caller, use_ctx)))] owner: Option<i64>,
    ) -> ApiResult<&'static str> {
        let _ = (contact, site, code, triple, short, level, ratio, country, username, pairs, owner);
        Ok("valid")
    }

    /// A structured body with its own `validator` rules.
    #[derive(Debug, Deserialize, Serialize, Validate)]
    pub struct Signup {
        #[validate(email(message = "email must be an e-mail address"))]
        pub email: String,
        #[validate(length(min = 8))]
        pub password: String,
    }

    #[request_handler(path = "signup/", method = POST, public)]
    async fn signup(#[param(body)] signup: Signup) -> ApiResult<String> {
        Ok(signup.email)
    }

    #[request_handler(path = "echo/", method = POST, public)]
    async fn echo(v: Option<Value>) -> ApiResult<Value> {
        Ok(v.unwrap_or(Value::Null))
    }

    #[request_handler(path = "multipart/", method = POST, public)]
    async fn multipart(note: String, file: Option<UploadedFile>) -> ApiResult<Value> {
        Ok(json!({"note": note, "file": file.map(|f| f.len())}))
    }

    #[request_handler(path = "broken/", method = GET, public)]
    async fn broken() -> ApiResult<Value> {
        Err(ApiError::internal("database password is hunter2"))
    }

    #[request_handler(path = "panics/", method = GET, public)]
    async fn panics() -> ApiResult<Value> {
        panic!("handler bug: secret detail");
    }

    #[request_handler(path = "teapot/", method = GET, public)]
    async fn teapot() -> ApiResult<Value> {
        Err(ApiError::with_status(axum::http::StatusCode::IM_A_TEAPOT, "short and stout"))
    }

    #[request_handler(path = "private/", method = POST)]
    async fn private(v: i64) -> ApiResult<i64> {
        Ok(v)
    }
}

/// Body limit of the test servers: 1 KiB.
const LIMIT: usize = 1024;

async fn server() -> TestServer {
    let app = app(settings(&format!("NETS_CORE_MAX_BODY_SIZE = {LIMIT}")));
    TestServer::start(app.routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app").router()).await
}

fn required() -> Value {
    json!(["this parameter is required"])
}

#[tokio::test]
async fn every_missing_parameter_is_listed_at_once_in_declaration_order() {
    let s = server().await;
    s.send(s.get("/create/"))
        .await
        .assert_field_errors("Missing params: zeta, alpha", json!({"zeta": required(), "alpha": required()}));
    s.send(s.post_json("/create/", json!({"alpha": 1})))
        .await
        .assert_field_errors("Missing params: zeta", json!({"zeta": required()}));
    // `null` and empty text are absent too (for types where empty is not a value).
    s.send(s.post_json("/create/", json!({"zeta": null, "alpha": ""})))
        .await
        .assert_field_errors("Missing params: zeta, alpha", json!({"zeta": required(), "alpha": required()}));
    s.send(s.post_json("/create/", json!({"zeta": "z", "alpha": 2})))
        .await
        .assert_data(json!({"zeta": "z", "alpha": 2, "page": 1, "note": null}));
}

#[tokio::test]
async fn missing_and_invalid_parameters_are_reported_together() {
    let s = server().await;
    s.send(s.get("/create/?alpha=x&page=y")).await.assert_field_errors(
        "Missing params: zeta",
        json!({
            "zeta": required(),
            "alpha": ["expected an integer, got \"x\""],
            "page": ["expected an integer, got \"y\""],
        }),
    );
}

#[tokio::test]
async fn one_invalid_parameter_is_named_in_the_message() {
    let s = server().await;
    s.send(s.get("/pair/?a=1&b=perhaps")).await.assert_field_errors(
        "invalid value for parameter 'b': expected a boolean (true/false/1/0), got \"perhaps\"",
        json!({"b": ["expected a boolean (true/false/1/0), got \"perhaps\""]}),
    );
}

#[tokio::test]
async fn several_invalid_parameters_are_listed() {
    let s = server().await;
    s.send(s.get("/pair/?a=one&b=perhaps")).await.assert_field_errors(
        "invalid parameters: a, b",
        json!({
            "a": ["expected an integer, got \"one\""],
            "b": ["expected a boolean (true/false/1/0), got \"perhaps\""],
        }),
    );
}

#[tokio::test]
async fn a_repeated_key_for_a_single_value_is_an_error_not_a_guess() {
    let s = server().await;
    s.send(s.get("/pair/?a=1&a=2&b=1"))
        .await
        .assert_invalid("a", "expected an integer, got a repeated parameter (2 values)");
    s.send(s.post("/pair/").form(&[("a", "1"), ("b", "1"), ("b", "0")]))
        .await
        .assert_invalid("b", "expected a boolean (true/false/1/0), got a repeated parameter (2 values)");
}

#[tokio::test]
async fn long_values_are_shortened_in_messages() {
    let s = server().await;
    let long = "x".repeat(100);
    let preview = format!("\"{}…", "x".repeat(39));
    s.send(s.get(&format!("/pair/?a={long}&b=1")))
        .await
        .assert_invalid("a", &format!("expected an integer, got {preview}"));
}

/// POSTs one field to `/rules/`.
async fn rule(s: &TestServer, field: &str, value: Value) -> nets_tests::Reply {
    s.send(s.post_json("/rules/", json!({ field: value }))).await
}

#[tokio::test]
async fn validation_rules_accept_good_values() {
    let s = server().await;
    let all = json!({
        "contact": "ada@example.com", "site": "https://example.com/x", "code": "abcde", "triple": [1, 2, 3],
        "short": "ab", "level": 10, "ratio": 0.001, "country": "CO", "username": "ada", "pairs": 4,
    });
    s.send(s.post_json("/rules/", all)).await.assert_data(json!("valid"));
    // An absent optional value is not validated.
    s.send(s.post_json("/rules/", json!({}))).await.assert_data(json!("valid"));
}

#[tokio::test]
async fn validation_rules_reject_with_their_messages() {
    let s = server().await;
    rule(&s, "contact", json!("nope")).await.assert_invalid("contact", "must be a valid e-mail address");
    rule(&s, "site", json!("not a url")).await.assert_invalid("site", "must be a valid URL");
    rule(&s, "code", json!("a")).await.assert_invalid("code", "length must be between 2 and 5");
    rule(&s, "code", json!("abcdef")).await.assert_invalid("code", "length must be between 2 and 5");
    rule(&s, "triple", json!([1, 2])).await.assert_invalid("triple", "length must be exactly 3");
    rule(&s, "short", json!("abc")).await.assert_invalid("short", "length must be at most 2");
    rule(&s, "level", json!(0)).await.assert_invalid("level", "must be >= 1 and <= 10");
    rule(&s, "level", json!("11")).await.assert_invalid("level", "must be >= 1 and <= 10");
    rule(&s, "ratio", json!(0)).await.assert_invalid("ratio", "must be > 0");
    rule(&s, "country", json!("Colombia")).await.assert_invalid("country", "must match the pattern ^[A-Z]{2}$");
    rule(&s, "username", json!("admin")).await.assert_invalid("username", "this name is reserved");
    rule(&s, "pairs", json!(3)).await.assert_invalid("pairs", "failed validation 'even'");
}

#[tokio::test]
async fn length_counts_characters_not_bytes() {
    let s = server().await;
    rule(&s, "code", json!("ñañ")).await.assert_data(json!("valid"));
    rule(&s, "short", json!("ñú")).await.assert_data(json!("valid"));
}

#[tokio::test]
async fn custom_rules_with_use_ctx_see_the_caller() {
    let s = server().await;
    let as_user = |v: Value| s.post("/rules/").bearer_auth(USER_TOKEN).json(&json!({ "owner": v }));
    s.send(as_user(json!(1))).await.assert_data(json!("valid"));
    s.send(as_user(json!(2))).await.assert_invalid("owner", "must be your own user id");
    // Anonymous on a public endpoint: the rule sees no user.
    rule(&s, "owner", json!(1)).await.assert_invalid("owner", "must be your own user id");
}

#[tokio::test]
async fn coercion_errors_come_before_rules() {
    let s = server().await;
    rule(&s, "level", json!("high")).await.assert_invalid("level", "expected an integer, got \"high\"");
}

#[tokio::test]
async fn structured_bodies_report_their_validation_errors_by_field() {
    let s = server().await;
    s.send(s.post_json("/signup/", json!({"email": "a@b.co", "password": "long enough"})))
        .await
        .assert_data(json!("a@b.co"));
    s.send(s.post_json("/signup/", json!({"email": "nope", "password": "short"}))).await.assert_field_errors(
        "invalid parameters: email, password",
        json!({"email": ["email must be an e-mail address"], "password": ["length must be at least 8"]}),
    );
    s.send(s.post_json("/signup/", json!({"signup": {"email": "nope", "password": "long enough"}})))
        .await
        .assert_invalid("signup.email", "email must be an e-mail address");
    s.send(s.post_json("/signup/", json!({"email": "a@b.co"})))
        .await
        .assert_invalid("signup", "missing field `password`");
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let s = server().await;
    for text in ["{\"v\": ", "{v: 1}", "{\"v\": 1} trailing", "\u{feff}{}"] {
        let reason = serde_json::from_str::<Value>(text).expect_err("the sample is malformed");
        let request = s.post("/echo/").header("content-type", "application/json").body(text.to_owned());
        s.send(request).await.assert_error(400, &format!("malformed JSON body: {reason}"));
    }
}

#[tokio::test]
async fn a_json_body_must_be_an_object() {
    let s = server().await;
    for (body, kind) in
        [("[1, 2]", "an array"), ("\"text\"", "a string"), ("5", "a number"), ("null", "null"), ("true", "a boolean")]
    {
        let request = s.post("/echo/").header("content-type", "application/json").body(body);
        s.send(request).await.assert_error(400, &format!("the JSON body must be an object, got {kind}"));
    }
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let settings = settings("NETS_CORE_MAX_BODY_SIZE = 1048576");
    let big = TestServer::start(
        app(settings).routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app").router(),
    )
    .await;
    let arrays = "[".repeat(10_000);
    let request = big.post("/echo/").header("content-type", "application/json").body(arrays);
    big.send(request).await.assert_error(400, "malformed JSON body: nested too deeply");
    let objects = format!("{}{}", "{\"v\":".repeat(10_000), "1");
    let request = big.post("/echo/").header("content-type", "application/json").body(objects);
    big.send(request).await.assert_error(400, "malformed JSON body: nested too deeply");
    // Deep JSON inside a text value stays text instead of failing the request.
    let encoded = "[".repeat(500);
    big.send(big.post("/echo/").form(&[("v", encoded.as_str())])).await.assert_data(json!(encoded));
    // And the server is still there.
    big.send(big.post_json("/echo/", json!({"v": 1}))).await.assert_data(json!(1));
}

#[tokio::test]
async fn unsupported_content_types_are_a_415() {
    let s = server().await;
    let request = s.post("/echo/").header("content-type", "text/plain").body("v=1");
    s.send(request).await.assert_error(
        415,
        "unsupported content type 'text/plain': send application/json, application/x-www-form-urlencoded or multipart/form-data",
    );
    let request = s.post("/echo/").header("content-type", "application/xml; charset=utf-8").body("<v/>");
    s.send(request).await.assert_error(
        415,
        "unsupported content type 'application/xml': send application/json, application/x-www-form-urlencoded or multipart/form-data",
    );
    let request = s.post("/echo/").body("v=1");
    s.send(request).await.assert_error(
        415,
        "unsupported content type '(none)': send application/json, application/x-www-form-urlencoded or multipart/form-data",
    );
    // An empty body needs no content type.
    s.send(s.post("/echo/")).await.assert_data(Value::Null);
}

fn too_large() -> String {
    format!("request body too large (limit is {LIMIT} bytes)")
}

/// A JSON body of exactly `len` bytes.
fn json_of_len(len: usize) -> String {
    let overhead = "{\"v\":\"\"}".len();
    format!("{{\"v\":\"{}\"}}", "x".repeat(len - overhead))
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let s = server().await;
    let at_limit = json_of_len(LIMIT);
    assert_eq!(at_limit.len(), LIMIT);
    let request = s.post("/echo/").header("content-type", "application/json").body(at_limit.clone());
    s.send(request).await.data();
    let over = json_of_len(LIMIT + 1);
    let request = s.post("/echo/").header("content-type", "application/json").body(over);
    s.send(request).await.assert_error(413, &too_large());
    // The limit holds for forms and multipart bodies too.
    let long = "x".repeat(LIMIT);
    s.send(s.post("/echo/").form(&[("v", long.as_str())])).await.assert_error(413, &too_large());
    s.send(s.post("/multipart/").multipart(Form::new().text("note", long.clone())))
        .await
        .assert_error(413, &too_large());
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_a_413() {
    let s = server().await;
    let body = json_of_len(2 * LIMIT);
    let mut chunks = String::new();
    for piece in body.as_bytes().chunks(300) {
        chunks.push_str(&format!("{:x}\r\n{}\r\n", piece.len(), String::from_utf8_lossy(piece)));
    }
    chunks.push_str("0\r\n\r\n");
    let request = format!(
        "POST /echo/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunks}"
    );
    s.raw(request.as_bytes()).await.assert_error(413, &too_large());

    // The same framing under the limit is read normally.
    let small = "{\"v\": \"chunked\"}";
    let request = format!(
        "POST /echo/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{small}\r\n0\r\n\r\n",
        small.len()
    );
    s.raw(request.as_bytes()).await.assert_data(json!("chunked"));
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let s = server().await;
    // Content-Length claims more than the limit; the body is never sent.
    let request = format!(
        "POST /echo/ HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        LIMIT * 1000
    );
    s.raw(request.as_bytes()).await.assert_error(413, &too_large());
}

#[tokio::test]
async fn non_utf8_multipart_text_is_a_400() {
    let s = server().await;
    let part = Part::bytes(vec![b'o', b'k', 0xff, 0xfe]);
    s.send(s.post("/multipart/").multipart(Form::new().part("note", part)))
        .await
        .assert_invalid("note", "text fields must be UTF-8");
    // Non-UTF-8 bytes are fine in a file part.
    let file = Part::bytes(vec![0xff, 0xfe, 0x00]).file_name("blob.bin");
    s.send(s.post("/multipart/").multipart(Form::new().text("note", "n").part("file", file)))
        .await
        .assert_data(json!({"note": "n", "file": 3}));
}

#[tokio::test]
async fn an_empty_file_input_counts_as_no_file() {
    let s = server().await;
    let empty = Part::bytes(Vec::new()).file_name("").mime_str("application/octet-stream").expect("mime");
    s.send(s.post("/multipart/").multipart(Form::new().text("note", "n").part("file", empty)))
        .await
        .assert_data(json!({"note": "n", "file": null}));
}

#[tokio::test]
async fn a_malformed_multipart_body_is_a_400() {
    let s = server().await;
    let request = s.post("/multipart/").header("content-type", "multipart/form-data").body("--x\r\n");
    s.send(request).await.assert_error(400, "malformed multipart body: missing boundary");
    let request =
        s.post("/multipart/").header("content-type", "multipart/form-data; boundary=xyz").body("--xyz\r\nno end");
    let reply = s.send(request).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    let message = reply.json["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("malformed multipart body: "), "{message}");
}

#[tokio::test]
async fn unknown_routes_are_a_json_404() {
    let s = server().await;
    s.send(s.get("/nowhere/")).await.assert_error(404, "not found");
    s.send(s.post_json("/nowhere", json!({}))).await.assert_error(404, "not found");
    s.send(s.get("/")).await.assert_error(404, "not found");
}

#[tokio::test]
async fn a_handler_status_error_keeps_its_status_and_message() {
    let s = server().await;
    s.send(s.get("/teapot/")).await.assert_error(418, "short and stout");
}

/// A 500 body is `{"res":0,"message":"internal server error","data":null,"request_id":<x-request-id>}`.
#[track_caller]
fn assert_internal_error(reply: &nets_tests::Reply) -> String {
    let id = reply.header("x-request-id").expect("500 replies carry x-request-id").to_owned();
    assert!(!id.is_empty());
    reply.assert_exact(500, json!({"res": 0, "message": "internal server error", "data": null, "request_id": id}));
    assert!(
        !reply.text().contains("hunter2") && !reply.text().contains("secret detail"),
        "cause leaked: {}",
        reply.text()
    );
    id
}

#[tokio::test]
async fn internal_errors_are_a_500_with_the_request_id_and_no_details() {
    let s = server().await;
    let first = assert_internal_error(&s.send(s.get("/broken/")).await);
    let second = assert_internal_error(&s.send(s.get("/broken/")).await);
    assert_ne!(first, second, "each request gets its own id");
    // A client-chosen request id is kept and echoed.
    let reply = s.send(s.get("/broken/").header("x-request-id", "client-chosen-1")).await;
    assert_eq!(assert_internal_error(&reply), "client-chosen-1");
}

#[tokio::test]
async fn panics_are_a_500_with_the_request_id() {
    let s = server().await;
    assert_internal_error(&s.send(s.get("/panics/")).await);
    let reply = s.send(s.get("/panics/").header("x-request-id", "trace-me")).await;
    assert_eq!(assert_internal_error(&reply), "trace-me");
    // The server survives the panic.
    s.send(s.get("/teapot/")).await.assert_error(418, "short and stout");
}

#[tokio::test]
async fn successful_replies_carry_a_request_id_too() {
    let s = server().await;
    let reply = s.send(s.post_json("/echo/", json!({"v": 1}))).await;
    reply.assert_data(json!(1));
    assert!(reply.header("x-request-id").is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn authentication_is_checked_before_the_body_is_read() {
    let s = server().await;
    // Anonymous: 401 even though the body is malformed or too large.
    let request = s.post("/private/").header("content-type", "application/json").body("{broken");
    s.send(request).await.assert_error(401, "authentication required");
    let request = s.post("/private/").header("content-type", "application/json").body(json_of_len(2 * LIMIT));
    s.send(request).await.assert_error(401, "authentication required");
}

#[tokio::test]
async fn too_many_parameters_are_refused_in_every_source() {
    let app = app(settings("NETS_CORE_MAX_FIELDS = 10"));
    let s =
        TestServer::start(app.routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app").router())
            .await;
    // Within the limit, unknown extra keys are ignored.
    let few: String = (0..5).map(|i| format!("&x{i}=1")).collect();
    s.send(s.get(&format!("/pair/?a=1&b=true{few}"))).await.assert_data(json!({"a": 1, "b": true}));

    let message = "too many parameters (limit is 10)";
    let many: String = (0..20).map(|i| format!("&x{i}=1")).collect();
    s.send(s.get(&format!("/pair/?a=1&b=true{many}"))).await.assert_error(400, message);
    let form = format!("a=1&b=true{many}");
    let request = s.post("/pair/").header("content-type", "application/x-www-form-urlencoded").body(form);
    s.send(request).await.assert_error(400, message);
    let object: serde_json::Map<String, Value> = (0..20).map(|i| (format!("x{i}"), json!(1))).collect();
    s.send(s.post_json("/pair/", Value::Object(object))).await.assert_error(400, message);
    let mut parts = reqwest::multipart::Form::new();
    for i in 0..20 {
        parts = parts.text(format!("x{i}"), "1");
    }
    s.send(s.post("/pair/").multipart(parts)).await.assert_error(400, message);
}
