//! `NETS_CORE_COMPRESS_JSON_ABOVE_BYTES`: large JSON answers compressed for clients that
//! accept it, small ones and other types left alone, and nothing compressed by default.

use std::io::Read;

use nets_runtime::prelude::*;
use nets_tests::TestServer;
use serde_json::{Value, json};

/// `n` items: about 20 bytes each.
#[request_handler(path = "items/", method = GET, public)]
async fn items(n: usize) -> ApiResult<Vec<String>> {
    Ok((0..n.min(10_000)).map(|i| format!("item number {i:06}")).collect())
}

async fn server(toml: &str) -> TestServer {
    let app = nets_tests::app(nets_tests::settings(toml)).routes(build_urlpatterns!().expect("routes"));
    TestServer::start(app.build().expect("app").router()).await
}

fn items_json(n: usize) -> Value {
    json!({"res": 1, "data": (0..n).map(|i| format!("item number {i:06}")).collect::<Vec<_>>()})
}

#[tokio::test]
async fn large_json_answers_are_compressed_for_clients_that_accept_it() {
    let s = server("NETS_CORE_COMPRESS_JSON_ABOVE_BYTES = 1024").await;

    let big = s.send(s.get("/items/?n=500").header("accept-encoding", "gzip")).await;
    assert_eq!((big.status, big.header("content-encoding")), (200, Some("gzip")));
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&big.bytes[..]).read_to_end(&mut text).expect("gzip");
    assert_eq!(serde_json::from_slice::<Value>(&text).expect("JSON"), items_json(500));
    assert!(big.bytes.len() * 4 < text.len(), "{} of {} bytes", big.bytes.len(), text.len());
    // Security headers still on the compressed answer.
    assert_eq!(big.header("x-content-type-options"), Some("nosniff"));

    let br = s.send(s.get("/items/?n=500").header("accept-encoding", "br")).await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    let mut text = Vec::new();
    brotli::Decompressor::new(&br.bytes[..], 4096).read_to_end(&mut text).expect("brotli");
    assert_eq!(serde_json::from_slice::<Value>(&text).expect("JSON"), items_json(500));

    // Below the size, or a client that does not accept it: as it is.
    let small = s.send(s.get("/items/?n=3").header("accept-encoding", "gzip")).await;
    assert_eq!((small.header("content-encoding"), &small.json), (None, &items_json(3)));
    let plain = s.send(s.get("/items/?n=500")).await;
    assert_eq!((plain.header("content-encoding"), &plain.json), (None, &items_json(500)));
    // Errors are JSON too, and small: untouched.
    let bad = s.send(s.get("/items/?n=many").header("accept-encoding", "gzip")).await;
    assert_eq!((bad.status, bad.header("content-encoding")), (400, None));
}

#[tokio::test]
async fn nothing_is_compressed_by_default() {
    assert_eq!(Settings::default().compress_json_above_bytes, 0);
    let s = server("").await;
    let big = s.send(s.get("/items/?n=2000").header("accept-encoding", "gzip, br")).await;
    assert_eq!((big.status, big.header("content-encoding")), (200, None));
    assert_eq!(big.json, items_json(2000));
}
