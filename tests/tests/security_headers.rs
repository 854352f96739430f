//! The security headers every answer carries (issue 17, item 10), as Django's middleware
//! sent them for the original: on success, errors, 404s, 405s and refusals alike;
//! configurable with Django's setting names; a handler's own header wins.

use nets_runtime::build_urlpatterns;
use nets_tests::{Reply, TestServer, USER_TOKEN, app, settings};
use reqwest::Method;

mod api {
    use axum::response::{IntoResponse, Response};
    use nets_runtime::prelude::*;

    #[request_handler(path = "open/", method = GET, public)]
    async fn open() -> ApiResult<&'static str> {
        Ok("hi")
    }

    #[request_handler(path = "mine/", method = GET)]
    async fn mine(ctx: Ctx) -> ApiResult<i64> {
        Ok(ctx.require_user()?.id)
    }

    /// A page that may be framed by its own site: its header is kept.
    #[request_handler(path = "framed/", method = GET, public)]
    async fn framed() -> Result<Response, ApiError> {
        Ok(([(axum::http::header::X_FRAME_OPTIONS, "SAMEORIGIN")], "<p>framed</p>").into_response())
    }
}

async fn server(toml: &str) -> TestServer {
    let app = app(settings(toml)).routes(build_urlpatterns!(crate::api).expect("routes")).build().expect("app");
    TestServer::start(app.router()).await
}

fn assert_defaults(reply: &Reply, what: &str) {
    assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{what}");
    assert_eq!(reply.header("referrer-policy"), Some("same-origin"), "{what}");
    assert_eq!(reply.header("cross-origin-opener-policy"), Some("same-origin"), "{what}");
    // Every Vary line counts (`/openapi.json` also varies on Accept-Encoding).
    let vary: Vec<&str> = reply.headers.get_all("vary").iter().filter_map(|v| v.to_str().ok()).collect();
    let vary = vary.join(", ").to_ascii_lowercase();
    assert!(vary.contains("authorization"), "{what}: Vary is '{vary}'");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let s = server("").await;
    let answers = [
        ("200", s.send(s.get("/open/")).await, 200),
        ("authenticated 200", s.send(s.get("/mine/").bearer_auth(USER_TOKEN)).await, 200),
        ("401", s.send(s.get("/mine/")).await, 401),
        ("405", s.send(s.request(Method::DELETE, "/open/")).await, 405),
        ("404", s.send(s.get("/nowhere/")).await, 404),
        ("openapi", s.send(s.get("/openapi.json")).await, 200),
        ("openapi gzip", s.send(s.get("/openapi.json").header("accept-encoding", "gzip")).await, 200),
        ("openapi 405", s.send(s.post("/openapi.json")).await, 405),
    ];
    let etag = answers[5].1.header("etag").map(str::to_owned).expect("an ETag");
    let not_modified = s.send(s.get("/openapi.json").header("if-none-match", etag)).await;
    for (what, reply, status) in answers.into_iter().chain([("openapi 304", not_modified, 304)]) {
        assert_eq!(reply.status, status, "{what}: {}", reply.text());
        assert_defaults(&reply, what);
        let id = reply.header("x-request-id").unwrap_or_default();
        assert_eq!(id.len(), 32, "{what}: request id '{id}'");
    }
    // `/openapi.json` is answered outside the middleware: a client's id still comes back.
    let reply = s.send(s.get("/openapi.json").header("x-request-id", "client-7")).await;
    assert_eq!(reply.header("x-request-id"), Some("client-7"));
    let reply = s.send(s.post("/openapi.json").header("x-request-id", "client-8")).await;
    assert_eq!(reply.header("x-request-id"), Some("client-8"));
}

#[tokio::test]
async fn a_handlers_own_header_wins_and_settings_change_or_drop_them() {
    let s = server("").await;
    let reply = s.send(s.get("/framed/")).await;
    assert_eq!(reply.header("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));

    let s = server(
        "X_FRAME_OPTIONS = 'SAMEORIGIN'\nSECURE_CONTENT_TYPE_NOSNIFF = false\nSECURE_REFERRER_POLICY = ''\n\
         SECURE_CROSS_ORIGIN_OPENER_POLICY = 'same-origin-allow-popups'",
    )
    .await;
    let reply = s.send(s.get("/open/")).await;
    assert_eq!(reply.header("x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(reply.header("x-content-type-options"), None);
    assert_eq!(reply.header("referrer-policy"), None);
    assert_eq!(reply.header("cross-origin-opener-policy"), Some("same-origin-allow-popups"));
}

#[tokio::test]
async fn vary_authorization_joins_what_cors_varies_on() {
    let s = server("CORS_ALLOWED_ORIGINS = ['https://app.example.com']").await;
    let reply = s.send(s.get("/open/").header("origin", "https://app.example.com")).await;
    assert_eq!(reply.header("access-control-allow-origin"), Some("https://app.example.com"));
    let vary: Vec<String> =
        reply.headers.get_all("vary").iter().map(|v| v.to_str().unwrap_or("").to_ascii_lowercase()).collect();
    let vary = vary.join(",");
    assert!(vary.contains("origin") && vary.contains("authorization"), "Vary: {vary}");
    assert_eq!(vary.matches("authorization").count(), 1, "Vary: {vary}");
}

#[test]
fn a_header_setting_that_cannot_be_sent_is_refused_at_load() {
    let error = nets_runtime::Settings::from_toml("X_FRAME_OPTIONS = \"DENY\\nX-Evil: 1\"").unwrap_err();
    assert!(error.to_string().contains("X_FRAME_OPTIONS"), "{error}");
}
