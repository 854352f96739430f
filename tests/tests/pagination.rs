//! `Page` arguments (issue 17, item 9): `page` and `page_size` (or the original's
//! `paginated_by`) from the query string or the body, as numbers or JSON-encoded strings;
//! the items in `data`, the position in `extra`; bad values are 400s naming the key.

use nets_runtime::build_urlpatterns;
use nets_tests::{TestServer, app, settings};
use serde_json::{Value, json};

mod api {
    use nets_runtime::params::Page;
    use nets_runtime::prelude::*;

    /// 0..95, paged.
    #[request_handler(path = "numbers/", methods = [GET, POST], public)]
    async fn numbers(page: Page, #[param(default = false)] odd: bool) -> ApiResult<Success<Vec<u64>>> {
        let all: Vec<u64> = (0..95).filter(|n| !odd || n % 2 == 1).collect();
        let items = all.iter().copied().skip(page.offset() as usize).take(page.limit() as usize).collect();
        Ok(page.respond(items, all.len() as u64))
    }
}

async fn server(toml: &str) -> TestServer {
    let app = app(settings(toml)).routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app");
    TestServer::start(app.router()).await
}

fn position(page: u64, size: u64, total: u64, pages: u64) -> Value {
    json!({"page": page, "page_size": size, "total": total, "pages": pages})
}

#[tokio::test]
async fn pages_come_from_the_query_or_the_body_with_the_position_in_extra() {
    let s = server("").await;
    // Defaults: page 1 of 25 (the original's paginated_by).
    let reply = s.send(s.get("/numbers/")).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.data().as_array().unwrap().len(), 25);
    assert_eq!(reply.json["extra"], position(1, 25, 95, 4));

    let reply = s.send(s.get("/numbers/?page=2&page_size=10&odd=true")).await;
    assert_eq!(reply.data(), &json!([21, 23, 25, 27, 29, 31, 33, 35, 37, 39]));
    assert_eq!(reply.json["extra"], position(2, 10, 47, 5));

    // The original's name, and values JSON-encoded in strings, in a JSON body.
    let reply = s.send(s.post_json("/numbers/", json!({"page": "3", "paginated_by": "40"}))).await;
    assert_eq!(reply.data().as_array().unwrap().first(), Some(&json!(80)));
    assert_eq!(reply.json["extra"], position(3, 40, 95, 3));
    // A form body.
    let reply = s.send(s.post("/numbers/").form(&[("page", "4"), ("page_size", "30")])).await;
    assert_eq!(reply.data(), &json!([90, 91, 92, 93, 94]));
    // Past the end: an empty page, not an error.
    let reply = s.send(s.get("/numbers/?page=99")).await;
    assert_eq!((reply.status, reply.data()), (200, &json!([])));
}

#[tokio::test]
async fn sizes_are_bounded_by_the_settings() {
    let s = server("NETS_CORE_PAGE_SIZE = 5\nNETS_CORE_PAGE_SIZE_MAX = 20").await;
    let reply = s.send(s.get("/numbers/")).await;
    assert_eq!(reply.json["extra"], position(1, 5, 95, 19));
    // Larger sizes are reduced to the maximum, and extra says so.
    let reply = s.send(s.get("/numbers/?page_size=1000")).await;
    assert_eq!(reply.data().as_array().unwrap().len(), 20);
    assert_eq!(reply.json["extra"]["page_size"], 20);
}

#[tokio::test]
async fn bad_pages_are_400s_naming_the_key() {
    let s = server("").await;
    for (query, key) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=two", "page"),
        ("page_size=0", "page_size"),
        ("paginated_by=1.5", "paginated_by"),
    ] {
        let reply = s.send(s.get(&format!("/numbers/?{query}"))).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text());
        assert!(reply.json["errors"][key].is_array(), "{query}: {}", reply.text());
    }
    // Both problems at once.
    let reply = s.send(s.get("/numbers/?page=0&page_size=x")).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply.json["errors"]["page"].is_array() && reply.json["errors"]["page_size"].is_array(),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn openapi_documents_the_page_keys() {
    let s = server("NETS_CORE_PAGE_SIZE_MAX = 50").await;
    let doc = s.send(s.get("/openapi.json")).await.json;
    let parameters = doc["paths"]["/numbers/"]["get"]["parameters"].as_array().expect("parameters");
    let named = |name: &str| parameters.iter().find(|p| p["name"] == name).cloned().unwrap_or(Value::Null);
    assert_eq!(named("page")["schema"]["minimum"], 1);
    assert_eq!(named("page_size")["schema"]["maximum"], 50);
    assert_eq!(named("page_size")["schema"]["default"], 25);
    assert_eq!(named("paginated_by")["deprecated"], true);
    let body = nets_tests::body_schema(&doc, "/numbers/", "post");
    assert!(body["properties"]["page"].is_object(), "{body}");
}
