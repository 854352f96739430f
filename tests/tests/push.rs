//! Push transport against the local FCM peer (`nets_tests::fcm`): the JWT-bearer
//! exchange, the token cache and its single flight, expiry, each FCM error class, the
//! message shape, and the configurations without credentials.

mod push_common;

use std::time::{Duration, Instant};

use nets_runtime::Settings;
use nets_runtime::push::{Notification, Push, SendError};
use nets_tests::fcm::{CLIENT_EMAIL, FcmPeer, OTHER_PRIVATE_KEY, Outcome};
use serde_json::json;

use push_common::{push, settings};

#[tokio::test]
async fn one_token_fetch_serves_32_concurrent_sends() {
    let peer = FcmPeer::start().await;
    peer.set_token_delay(Duration::from_millis(300)); // every sender arrives while it is fetched
    let push = push(&peer, &settings(&peer));
    let n = Notification::new("Hello", "world");
    let sends = (0..32).map(|i| {
        let (push, n) = (push.clone(), n.clone());
        tokio::spawn(async move { push.send_to_token(&format!("token-{i}"), &n).await })
    });
    for send in futures_util::future::join_all(sends).await {
        let name = send.expect("task").expect("sent");
        assert!(name.starts_with("projects/nets-test-project/messages/"), "{name}");
    }
    assert_eq!(peer.token_requests(), 1, "one assertion exchange for 32 senders");
    assert_eq!(push.access_token_fetches(), 1);
    assert_eq!(peer.received().len(), 32);
}

#[tokio::test]
async fn a_token_near_expiry_is_replaced_and_a_refused_one_refetched() {
    let peer = FcmPeer::start().await;
    peer.set_token_lifetime(4); // refreshed 2 s before expiry (half its life)
    let push = push(&peer, &settings(&peer));
    let n = Notification::new("a", "b");
    push.send_to_token("t", &n).await.expect("first");
    push.send_to_token("t", &n).await.expect("cached");
    assert_eq!(peer.token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    push.send_to_token("t", &n).await.expect("after refresh");
    assert_eq!(peer.token_requests(), 2, "re-issued once past the refresh point");

    // The peer forgets every token it issued (revoked): 401, one new token, sent.
    peer.set_token_lifetime(3600);
    peer.forget_issued_tokens();
    push.send_to_token("t", &n).await.expect("sent with a fresh token");
    assert_eq!(peer.token_requests(), 3);
}

#[tokio::test]
async fn each_fcm_error_class_is_told_apart() {
    let peer = FcmPeer::start().await;
    let push = push(&peer, &settings(&peer));
    let n = Notification::new("a", "b");
    let cases = [
        ("unregistered", Outcome::Unregistered, "dead_token"),
        ("invalid", Outcome::InvalidToken, "dead_token"),
        ("mismatch", Outcome::SenderIdMismatch, "dead_token"),
        ("unavailable", Outcome::Unavailable, "unavailable"),
        ("internal", Outcome::Internal, "unavailable"),
        ("apns", Outcome::ThirdPartyAuth, "config"),
    ];
    for (token, outcome, reason) in cases {
        peer.script(token, [outcome]);
        let err = push.send_to_token(token, &n).await.expect_err(token);
        assert_eq!(err.reason(), reason, "{token}: {err}");
    }
    // Dead tokens and configuration errors are not retried; 503/500 are, up to the limit.
    for token in ["unregistered", "invalid", "mismatch", "apns"] {
        assert_eq!(peer.attempts(token), 1, "{token}");
    }
    for token in ["unavailable", "internal"] {
        assert_eq!(peer.attempts(token), 3, "{token}: 1 try + NETS_CORE_PUSH_MAX_RETRIES (2)");
    }
}

#[tokio::test]
async fn retry_after_is_honoured_then_the_message_goes_through() {
    let peer = FcmPeer::start().await;
    let push = push(&peer, &settings(&peer));
    peer.script("busy", [Outcome::RateLimited { retry_after_secs: 1 }, Outcome::Success]);
    let started = Instant::now();
    let name = push.send_to_token("busy", &Notification::new("a", "b")).await.expect("sent after the wait");
    assert!(name.contains("/messages/"));
    assert!(started.elapsed() >= Duration::from_secs(1), "waited Retry-After: {:?}", started.elapsed());
    assert_eq!((peer.attempts("busy"), peer.delivered("busy")), (2, 1));

    // A Retry-After beyond NETS_CORE_PUSH_BACKOFF_MAX_MS is not waited for in the send:
    // the delivery is left to the job's next attempt.
    peer.script("later", [Outcome::RateLimited { retry_after_secs: 60 }]);
    let started = Instant::now();
    let err = push.send_to_token("later", &Notification::new("a", "b")).await.expect_err("not waited");
    assert!(err.is_retryable() && started.elapsed() < Duration::from_secs(2), "{err}");
}

#[tokio::test]
async fn a_slow_answer_times_out_and_counts_as_retryable() {
    let peer = FcmPeer::start().await;
    let mut s = settings(&peer);
    s.push_max_retries = 0;
    let push = push(&peer, &s);
    peer.script("slow", [Outcome::Slow(Duration::from_secs(3))]);
    let started = Instant::now();
    let err = push.send_to_token("slow", &Notification::new("a", "b")).await.expect_err("timed out");
    assert!(matches!(err, SendError::Unavailable(ref why) if why.contains("timed out")), "{err}");
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "NETS_CORE_PUSH_TIMEOUT_SECONDS = 1: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_forged_assertion_is_refused_by_the_token_endpoint() {
    let peer = FcmPeer::start().await;
    let forged = Push::builder(&settings(&peer))
        .service_account(peer.service_account_json_with(OTHER_PRIVATE_KEY, CLIENT_EMAIL))
        .build()
        .expect("a well-formed key");
    let err = forged.send_to_token("t", &Notification::new("a", "b")).await.expect_err("refused");
    assert_eq!(err.reason(), "config", "{err}");
    assert_eq!((peer.refused_assertions(), peer.received().len()), (1, 0));

    let wrong_issuer = Push::builder(&settings(&peer))
        .service_account(peer.service_account_json_with(nets_tests::fcm::TEST_PRIVATE_KEY, "someone@else.iam"))
        .build()
        .expect("a well-formed key");
    assert_eq!(
        wrong_issuer.send_to_token("t", &Notification::new("a", "b")).await.expect_err("iss").reason(),
        "config"
    );
    assert_eq!(peer.refused_assertions(), 2);
}

#[tokio::test]
async fn the_message_carries_string_data_the_android_options_and_an_apns_block() {
    let peer = FcmPeer::start().await;
    let push = push(&peer, &settings(&peer));
    let n = Notification::new("Order", "shipped")
        .data("order_id", json!(42))
        .data("meta", json!({"a": [1, 2]}))
        .data("note", json!("as is"))
        .channel("orders")
        .badge(3)
        .collapse_key("order-42")
        .ttl(Duration::from_secs(600));
    push.send_to_token("shape", &n).await.expect("sent");
    push.send_to_topic("news", &Notification::default().data("sync", json!(true))).await.expect("topic");
    let received = peer.received();
    let m = &received[0].body["message"];
    assert_eq!(m["data"], json!({"order_id": "42", "meta": "{\"a\":[1,2]}", "note": "as is"}));
    assert_eq!(m["notification"], json!({"title": "Order", "body": "shipped"}));
    assert_eq!(m["android"]["priority"], "high");
    assert_eq!(m["android"]["ttl"], "600s");
    assert_eq!(m["android"]["collapse_key"], "order-42");
    assert_eq!(
        m["android"]["notification"],
        json!({"icon": "ic_launcher", "color": "#f45342", "channel_id": "orders"})
    );
    assert_eq!(m["apns"]["payload"]["aps"], json!({"sound": "default", "badge": 3}));
    assert_eq!(m["apns"]["headers"]["apns-collapse-id"], "order-42");
    let topic = &received[1];
    assert_eq!(topic.target, "topic:news");
    assert_eq!(topic.body["message"]["apns"]["payload"]["aps"]["content-available"], 1);
    assert!(topic.body["message"].get("notification").is_none());

    assert_eq!(push.send_to_topic("bad topic!", &n).await.expect_err("name").reason(), "invalid_message");
    assert_eq!(push.send_to_token(" ", &n).await.expect_err("empty").reason(), "invalid_message");
    let reserved = Notification::new("a", "b").data("google.c", json!(1));
    assert_eq!(push.send_to_token("t", &reserved).await.expect_err("reserved").reason(), "invalid_message");
    assert_eq!(peer.received().len(), 2, "refused messages never left");
}

#[tokio::test]
async fn without_credentials_debug_logs_and_production_records_not_configured() {
    let mut debug = Settings::default();
    debug.debug = true;
    let console = Push::builder(&debug).service_account("").build().expect("console push");
    assert!(!console.is_configured());
    let name = console.send_to_token("t", &Notification::new("a", "b")).await.expect("recorded as sent");
    assert!(name.starts_with("projects/debug/messages/console-"), "{name}");

    let production = Push::builder(&Settings::default()).service_account("").build().expect("unconfigured push");
    let err = production.send_to_token("t", &Notification::new("a", "b")).await.expect_err("not configured");
    assert_eq!(err, SendError::NotConfigured);
    assert_eq!(err.reason(), "not_configured");

    // The setting holds the key: never shown by the settings' Debug (logged at startup).
    let peer = FcmPeer::start().await;
    let mut with_key = Settings::default();
    with_key.firebase_config = nets_runtime::settings::Secret::new(peer.service_account_json());
    let shown = format!("{with_key:?}");
    assert!(!shown.contains("PRIVATE KEY") && shown.contains("firebase_config: ***"), "{shown}");
    assert!(Push::builder(&with_key).build().expect("from the setting").is_configured());

    let broken = Push::builder(&Settings::default()).service_account("{\"project_id\": \"p\"}").build();
    assert!(broken.is_err(), "a malformed service account is a startup error");
    let missing = Push::builder(&Settings::default()).service_account("/nonexistent/sa.json").build();
    assert!(missing.expect_err("missing file").to_string().contains("/nonexistent/sa.json"));
}

#[tokio::test]
async fn http2_prior_knowledge_reaches_an_h2c_peer_and_throughput_is_reported() {
    let peer = FcmPeer::start().await;
    let mut s = settings(&peer);
    s.push_concurrency = 64;
    s.push_timeout_seconds = 5; // a loaded CI machine must not turn this into a timeout test
    let push = Push::builder(&s)
        .service_account(peer.service_account_json())
        .http2_prior_knowledge(true)
        .build()
        .expect("push over h2c");
    const N: usize = 2000;
    let n = Notification::new("load", "test").data("i", json!(1));
    let started = Instant::now();
    let sends = (0..N).map(|i| {
        let (push, n) = (push.clone(), n.clone());
        tokio::spawn(async move { push.send_to_token(&format!("load-{i}"), &n).await })
    });
    let results = futures_util::future::join_all(sends).await;
    let elapsed = started.elapsed();
    assert!(results.into_iter().all(|r| matches!(r, Ok(Ok(_)))), "every send succeeded");
    assert_eq!(peer.received().len(), N);
    eprintln!(
        "push throughput (HTTP/2 prior knowledge, debug build, 2 cores shared with the peer): {:.0} messages/s",
        N as f64 / elapsed.as_secs_f64()
    );
}
