//! `Ctx::client_ip` over real connections: `X-Forwarded-For` is believed only when the
//! peer is a trusted proxy (`NETS_CORE_TRUSTED_PROXIES`).

use nets_runtime::prelude::*;
use nets_tests::TestServer;
use serde_json::json;

#[request_handler(path = "ip/", method = GET, public)]
async fn ip(ctx: Ctx) -> ApiResult<Option<String>> {
    Ok(ctx.client_ip().map(|ip| ip.to_string()))
}

async fn server(toml: &str) -> TestServer {
    let app = App::builder(nets_tests::settings(toml));
    TestServer::start(app.routes(build_urlpatterns!().unwrap()).build().expect("app").router()).await
}

#[tokio::test]
async fn forwarded_for_is_ignored_without_trusted_proxies() {
    let server = server("").await;
    server.send(server.get("/ip/")).await.assert_data(json!("127.0.0.1"));
    let spoofed = server.get("/ip/").header("x-forwarded-for", "6.6.6.6").header("x-real-ip", "7.7.7.7");
    server.send(spoofed).await.assert_data(json!("127.0.0.1"));
}

#[tokio::test]
async fn forwarded_for_is_believed_from_a_trusted_proxy() {
    // The test client connects from 127.0.0.1: here that is the reverse proxy.
    let server = server("NETS_CORE_TRUSTED_PROXIES = ['127.0.0.0/8', '10.0.0.0/8']").await;
    server.send(server.get("/ip/")).await.assert_data(json!("127.0.0.1"));
    let one_hop = server.get("/ip/").header("x-forwarded-for", "203.0.113.7");
    server.send(one_hop).await.assert_data(json!("203.0.113.7"));
    // The client prepended a lie; the proxies appended the truth.
    let spoofed = server.get("/ip/").header("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.1.1");
    server.send(spoofed).await.assert_data(json!("203.0.113.7"));
    let garbage = server.get("/ip/").header("x-forwarded-for", "not-an-ip");
    server.send(garbage).await.assert_data(json!("127.0.0.1"));
}

#[tokio::test]
async fn a_bad_trusted_proxy_entry_is_a_settings_error() {
    let err = Settings::from_toml("NETS_CORE_TRUSTED_PROXIES = ['10.0.0.0/40']").unwrap_err();
    assert!(err.to_string().contains("10.0.0.0/40"), "{err}");
}
