// A return type not written as `ApiResult<T>` / `Result<T, E>` is dispatched by trait:
// an alias of a `Result` with serialisable data is the envelope (with its data schema),
// even when the `Result` is also an axum response; a response type goes through
// `IntoResponse`.
use axum::response::Html;
use nets_runtime::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug)]
struct BillingError;

impl From<BillingError> for ApiError {
    fn from(_: BillingError) -> ApiError {
        ApiError::bad_request("billing failed")
    }
}

type BillingResult<T> = Result<T, BillingError>;
/// `Result<String, ApiError>` is `IntoResponse` too; the envelope still wins.
type Answer = Result<String, ApiError>;
type Page = Html<&'static str>;

#[request_handler(path = "totals/", method = GET, public)]
async fn totals(#[param(default = false)] fail: bool) -> BillingResult<i64> {
    if fail {
        return Err(BillingError);
    }
    Ok(3)
}

#[request_handler(path = "answer/", method = GET, public)]
async fn answer() -> Answer {
    Ok("yes".to_owned())
}

#[request_handler(path = "page/", method = GET, public)]
async fn page() -> Page {
    Html("<p>hi</p>")
}

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    reply.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or(reply)
}

#[tokio::main]
async fn main() {
    let doc = serde_json::to_value(nets_runtime::build_openapi(&Settings::default())).unwrap();
    let data = |path: &str| {
        doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"]
            .clone()
    };
    assert_eq!(data("/totals/")["type"], "integer", "{doc}");
    assert_eq!(data("/answer/")["type"], "string", "{doc}");

    let routes = nets_runtime::build_urlpatterns!().expect("no route conflicts");
    let app = App::builder(Settings::default()).routes(routes).build().expect("wired");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app.router()).await });
    assert!(get(addr, "/totals/").await.contains(r#""res":1"#));
    assert!(get(addr, "/totals/?fail=true").await.contains("billing failed"));
    assert!(get(addr, "/answer/").await.contains(r#""data":"yes""#));
    assert_eq!(get(addr, "/page/").await, "<p>hi</p>");
}
