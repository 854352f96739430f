//! Harness of the black-box HTTP tests of nets.
//!
//! Each file in `tests/tests/` is its own binary: it declares the handlers it needs,
//! builds a router from them exactly as an application does, and talks to it over a
//! real TCP connection:
//!
//! ```no_run
//! use nets_runtime::prelude::*;
//! use nets_tests::TestServer;
//! use serde_json::json;
//!
//! #[request_handler(path = "ping/", method = GET, public)]
//! async fn ping() -> ApiResult<&'static str> {
//!     Ok("pong")
//! }
//!
//! # #[tokio::main] async fn main() {
//! let app = nets_tests::app(Settings::default()); // with the test users' bearer tokens
//! let server = TestServer::start(app.routes(build_urlpatterns!().expect("routes")).build().expect("app").router()).await;
//! server.send(server.get("/ping/")).await.assert_data(json!("pong"));
//! # }
//! ```
//!
//! [`Reply`] carries the assertions on nets' wire envelope (`{"res": 1, "data": ..}` /
//! `{"res": 0, "message": ..}`), and [`raw_request`] sends hand-written bytes for what
//! an HTTP client library will not produce (chunked bodies without `Content-Length`).
//!
//! [`db::test_db`] gives a test a migrated database of its own (SQLite, or PostgreSQL when
//! `NETS_TEST_DATABASE_URL` is set).

pub mod db;
pub mod fcm;
pub mod jobs;
pub mod smtp;
pub mod social;
pub mod ws;

use std::net::SocketAddr;

use nets_runtime::auth::{AuthUser, StaticBearer};
use nets_runtime::{App, AppBuilder, Settings};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Token of user 1, a regular user (`ada@example.com`).
pub const USER_TOKEN: &str = "user-token";
/// Token of user 2, another regular user (`bob@example.com`).
pub const OTHER_TOKEN: &str = "other-token";
/// Token of user 9, a global superuser (`root@example.com`).
pub const ADMIN_TOKEN: &str = "admin-token";

/// The authenticator of every test app: the three tokens above.
pub fn bearer() -> StaticBearer {
    StaticBearer::new()
        .token(USER_TOKEN, AuthUser::new(1, "ada@example.com"))
        .token(OTHER_TOKEN, AuthUser::new(2, "bob@example.com"))
        .token(ADMIN_TOKEN, AuthUser::new(9, "root@example.com").superuser())
}

/// Settings from TOML text; panics with the reason when the text is not valid settings.
pub fn settings(toml: &str) -> Settings {
    match Settings::from_toml(toml) {
        Ok(s) => s,
        Err(e) => panic!("test settings do not load: {e}"),
    }
}

/// An app builder with the given settings and the [`bearer`] authenticator.
pub fn app(settings: Settings) -> AppBuilder {
    App::builder(settings).authenticator(bearer())
}

/// `value`, or what its `$ref` points at in the OpenAPI document `doc` (nets shares
/// request bodies, the success envelope and the error responses as components).
pub fn resolved<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {pointer}")),
        None => value,
    }
}

/// The JSON request-body schema of `method path` in the OpenAPI document `doc`.
pub fn body_schema<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
    resolved(doc, &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"])
}

/// A nets server listening on `127.0.0.1:<random port>` for the duration of a test.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// The listening address.
    pub addr: SocketAddr,
    /// A client without proxies or redirects.
    pub client: Client,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Serves `router` (from [`App::router`]) with [`nets_runtime::serve_on`].
    pub async fn start(router: axum::Router) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let task = tokio::spawn(async move {
            if let Err(e) = nets_runtime::serve_on(listener, router).await {
                panic!("test server stopped: {e}");
            }
        });
        // rustls (nets' push client) needs its crypto provider before any client.
        nets_runtime::install_crypto_provider();
        let client =
            Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().expect("reqwest client");
        TestServer { base: format!("http://{addr}"), addr, client, task }
    }

    /// Absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request of any method to `path`.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// `POST path`.
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }

    /// `POST path` with a JSON body.
    pub fn post_json(&self, path: &str, body: Value) -> RequestBuilder {
        self.post(path).json(&body)
    }

    /// Sends a request and reads the whole reply.
    pub async fn send(&self, request: RequestBuilder) -> Reply {
        let response = request.send().await.expect("request reaches the test server");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("response body");
        Reply::new(status, headers, bytes.to_vec())
    }

    /// Sends raw bytes (see [`raw_request`]).
    pub async fn raw(&self, request: &[u8]) -> Reply {
        raw_request(self.addr, request).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A finished response: status, headers and body (parsed as JSON when it is JSON).
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub bytes: Vec<u8>,
    /// The body as JSON, `Value::Null` when it is not JSON.
    pub json: Value,
}

impl Reply {
    fn new(status: u16, headers: HeaderMap, bytes: Vec<u8>) -> Reply {
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, bytes, json }
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// A header's value as text, `None` when absent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// 200 with exactly `{"res": 1, "data": data}`.
    #[track_caller]
    pub fn assert_data(&self, data: Value) {
        self.assert_exact(200, json!({"res": 1, "data": data}));
    }

    /// 200 with `res: 1`; returns `data`.
    #[track_caller]
    pub fn data(&self) -> &Value {
        assert_eq!((self.status, &self.json["res"]), (200, &json!(1)), "expected a success envelope: {}", self.text());
        &self.json["data"]
    }

    /// `status` with exactly `{"res": 0, "message": message}` and a JSON content type.
    #[track_caller]
    pub fn assert_error(&self, status: u16, message: &str) {
        self.assert_exact(status, json!({"res": 0, "message": message, "data": null}));
    }

    /// 400 with exactly `{"res": 0, "message": message, "data": null, "errors": errors}`.
    #[track_caller]
    pub fn assert_field_errors(&self, message: &str, errors: Value) {
        self.assert_exact(400, json!({"res": 0, "message": message, "data": null, "errors": errors}));
    }

    /// 400 `Missing params: a, b` (in this order) with each named as required in `errors`.
    #[track_caller]
    pub fn assert_missing(&self, names: &[&str]) {
        let errors: serde_json::Map<String, Value> =
            names.iter().map(|n| ((*n).to_owned(), json!(["this parameter is required"]))).collect();
        self.assert_field_errors(&format!("Missing params: {}", names.join(", ")), Value::Object(errors));
    }

    /// 400 `invalid value for parameter '<field>': <problem>` with `errors: {field: [problem]}`.
    #[track_caller]
    pub fn assert_invalid(&self, field: &str, problem: &str) {
        self.assert_field_errors(
            &format!("invalid value for parameter '{field}': {problem}"),
            json!({ field: [problem] }),
        );
    }

    /// `status` and exactly this JSON body, served as `application/json`.
    #[track_caller]
    pub fn assert_exact(&self, status: u16, body: Value) {
        assert_eq!((self.status, &self.json), (status, &body), "unexpected reply; body text: {}", self.text());
        if self.bytes.is_empty() {
            return; // HEAD
        }
        let content_type = self.header("content-type").unwrap_or("");
        assert!(content_type.starts_with("application/json"), "content-type is {content_type:?}");
    }
}

/// Sends `request` verbatim on a new connection and reads the reply until the server
/// closes it (so send `Connection: close`). Handles `Content-Length` and chunked replies.
pub async fn raw_request(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).await.expect("connect to the test server");
    stream.write_all(request).await.expect("write the raw request");
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            // A reset after the reply arrived (the server closed with unread input) ends it too.
            Err(e) if !received.is_empty() => {
                eprintln!("raw_request: read ended with {e}");
                break;
            }
            Err(e) => panic!("no reply to the raw request: {e}"),
        }
    }
    parse_raw_reply(&received)
}

fn parse_raw_reply(received: &[u8]) -> Reply {
    let split = received.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
    let head = String::from_utf8_lossy(&received[..split]).into_owned();
    let mut body = received[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).expect("header name");
            let value = reqwest::header::HeaderValue::from_str(value.trim()).expect("header value");
            headers.append(name, value);
        }
    }
    let chunked = headers.get("transfer-encoding").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Reply::new(status, headers, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// A minimal PNG signature followed by padding: sniffed as `image/png`.
pub const PNG_BYTES: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R'];
