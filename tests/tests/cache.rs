//! The cache backends (memory always; Redis when `NETS_TEST_REDIS_URL` is set, as in
//! `.ci/run`), `SecureCache` and rate limits. Every behaviour is checked on both backends
//! with the same test body; Redis tests use a key prefix of their own, so they can run in
//! parallel with each other and with other users of the same server.

use std::time::Duration;

use futures_util::future::join_all;
use nets_runtime::cache::{Cache, CacheError, RateLimit, SecureCache};
use nets_runtime::keys::SecretKey;
use nets_runtime::prelude::*;
use nets_tests::TestServer;
use serde_json::json;

const REDIS_ENV: &str = "NETS_TEST_REDIS_URL";

/// A fresh prefix per test, so tests never see each other's keys.
fn prefix() -> String {
    format!("nets-test:{}:", uuid::Uuid::new_v4().simple())
}

fn redis_url() -> Option<String> {
    std::env::var(REDIS_ENV).ok().filter(|u| !u.trim().is_empty())
}

/// The Redis cache of this test, `None` when `NETS_TEST_REDIS_URL` is unset. Set but
/// unreachable is a failure, never a skip.
async fn redis_cache() -> Option<(Cache, String)> {
    let url = redis_url()?;
    let prefix = prefix();
    match Cache::redis(&url, &prefix).await {
        Ok(cache) => Some((cache, prefix)),
        Err(e) => panic!("{REDIS_ENV}={url} is set but Redis cannot be used: {e}"),
    }
}

/// A plain Redis connection, to inspect what the backend really stored.
async fn raw_redis() -> redis::aio::MultiplexedConnection {
    let url = redis_url().expect("only called on the Redis tier");
    let client = redis::Client::open(url).expect("redis url");
    client.get_multiplexed_async_connection().await.expect("raw redis connection")
}

/// Runs an `async fn(Cache, Option<String>)` test body on the memory backend and, when
/// configured, on Redis (the second argument is then the Redis key prefix).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test] async fn $name() { super::$name(nets_runtime::cache::Cache::memory(10_000), None).await; })*
        }
        mod redis_backend {
            $(#[tokio::test] async fn $name() {
                match super::redis_cache().await {
                    Some((cache, prefix)) => super::$name(cache, Some(prefix)).await,
                    None => eprintln!("skipped: {} is not set", super::REDIS_ENV),
                }
            })*
        }
    };
}

on_both_backends!(
    get_set_delete_round_trip,
    entries_expire_after_their_ttl,
    set_if_absent_stores_only_once,
    take_hands_the_value_out_once,
    concurrent_takes_have_exactly_one_winner,
    delete_if_eq_compares_before_deleting,
    incr_counts_in_a_fixed_window,
    concurrent_increments_are_all_counted,
    incr_refuses_a_non_counter,
    secure_cache_stores_digests_only,
    secure_cache_validates_and_consumes_once,
    concurrent_consumes_of_the_right_code_have_exactly_one_winner,
    rate_limit_refuses_beyond_the_limit_until_the_window_ends,
);

async fn get_set_delete_round_trip(cache: Cache, _: Option<String>) {
    assert_eq!(cache.get("a").await.unwrap(), None);
    cache.set("a", b"one", Duration::from_secs(60)).await.unwrap();
    assert_eq!(cache.get("a").await.unwrap().as_deref(), Some(&b"one"[..]));
    cache.set("a", b"two", Duration::from_secs(60)).await.unwrap();
    assert_eq!(cache.get("a").await.unwrap().as_deref(), Some(&b"two"[..]), "set replaces");
    assert!(cache.delete("a").await.unwrap());
    assert!(!cache.delete("a").await.unwrap(), "already gone");
    assert_eq!(cache.get("a").await.unwrap(), None);
    // Arbitrary bytes survive.
    let bytes = [0u8, 255, 10, 13, 0];
    cache.set("bin", &bytes, Duration::from_secs(60)).await.unwrap();
    assert_eq!(cache.get("bin").await.unwrap().as_deref(), Some(&bytes[..]));
}

async fn entries_expire_after_their_ttl(cache: Cache, _: Option<String>) {
    cache.set("short", b"x", Duration::from_millis(80)).await.unwrap();
    cache.set("long", b"y", Duration::from_secs(60)).await.unwrap();
    // A zero TTL is rounded up to the smallest one, not refused.
    cache.set("zero", b"z", Duration::ZERO).await.unwrap();
    assert_eq!(cache.get("short").await.unwrap().as_deref(), Some(&b"x"[..]));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cache.get("short").await.unwrap(), None);
    assert_eq!(cache.get("zero").await.unwrap(), None);
    assert_eq!(cache.take("short").await.unwrap(), None, "expired entries cannot be taken");
    assert_eq!(cache.get("long").await.unwrap().as_deref(), Some(&b"y"[..]));
}

async fn set_if_absent_stores_only_once(cache: Cache, _: Option<String>) {
    assert!(cache.set_if_absent("k", b"first", Duration::from_millis(150)).await.unwrap());
    assert!(!cache.set_if_absent("k", b"second", Duration::from_secs(60)).await.unwrap());
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"first"[..]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(cache.set_if_absent("k", b"third", Duration::from_secs(60)).await.unwrap(), "expired counts as absent");
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"third"[..]));
}

async fn take_hands_the_value_out_once(cache: Cache, _: Option<String>) {
    cache.set("code", b"v", Duration::from_secs(60)).await.unwrap();
    assert_eq!(cache.take("code").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(cache.take("code").await.unwrap(), None);
    assert_eq!(cache.get("code").await.unwrap(), None);
}

async fn concurrent_takes_have_exactly_one_winner(cache: Cache, _: Option<String>) {
    for round in 0..5 {
        let key = format!("race{round}");
        cache.set(&key, b"prize", Duration::from_secs(60)).await.unwrap();
        let takes = (0..32).map(|_| {
            let (cache, key) = (cache.clone(), key.clone());
            tokio::spawn(async move { cache.take(&key).await.unwrap() })
        });
        let results: Vec<_> = join_all(takes).await.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(results.iter().filter(|r| r.is_some()).count(), 1, "round {round}: {results:?}");
    }
}

async fn delete_if_eq_compares_before_deleting(cache: Cache, _: Option<String>) {
    cache.set("k", b"right", Duration::from_secs(60)).await.unwrap();
    assert!(!cache.delete_if_eq("k", b"wrong").await.unwrap());
    assert!(!cache.delete_if_eq("k", b"righ").await.unwrap(), "a prefix is not equal");
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"right"[..]), "kept after a mismatch");
    assert!(cache.delete_if_eq("k", b"right").await.unwrap());
    assert!(!cache.delete_if_eq("k", b"right").await.unwrap());
    assert!(!cache.delete_if_eq("missing", b"").await.unwrap());
}

async fn incr_counts_in_a_fixed_window(cache: Cache, _: Option<String>) {
    let window = Duration::from_millis(300);
    let first = cache.incr("hits", window).await.unwrap();
    assert_eq!(first.count, 1);
    assert!(first.ttl <= window && first.ttl > Duration::ZERO, "{first:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = cache.incr("hits", Duration::from_secs(60)).await.unwrap();
    assert_eq!(second.count, 2);
    assert!(second.ttl < first.ttl, "the window is not extended: {second:?} after {first:?}");
    assert_eq!(cache.incr("hits", window).await.unwrap().count, 3);
    assert_eq!(cache.get("hits").await.unwrap().as_deref(), Some(&b"3"[..]), "stored as decimal text");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(cache.incr("hits", window).await.unwrap().count, 1, "a new window starts from zero");
}

async fn concurrent_increments_are_all_counted(cache: Cache, _: Option<String>) {
    let incs = (0..50).map(|_| {
        let cache = cache.clone();
        tokio::spawn(async move { cache.incr("n", Duration::from_secs(60)).await.unwrap().count })
    });
    let mut counts: Vec<u64> = join_all(incs).await.into_iter().map(|r| r.unwrap()).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=50).collect::<Vec<_>>(), "every increment saw its own count");
}

async fn incr_refuses_a_non_counter(cache: Cache, _: Option<String>) {
    cache.set("text", b"hello", Duration::from_secs(60)).await.unwrap();
    let err = cache.incr("text", Duration::from_secs(60)).await.unwrap_err();
    assert!(matches!(&err, CacheError::NotACounter(k) if k == "text"), "{err}");
    assert_eq!(cache.get("text").await.unwrap().as_deref(), Some(&b"hello"[..]), "left as it was");
}

fn secure(cache: &Cache) -> SecureCache {
    SecureCache::new(cache.clone(), SecretKey::new(b"test secret key"))
}

async fn secure_cache_stores_digests_only(cache: Cache, redis_prefix: Option<String>) {
    let codes = secure(&cache);
    codes.set("login:user42", "123456", Duration::from_secs(60)).await.unwrap();
    // Nothing under the plain key; under the digest key, the value's digest.
    assert_eq!(cache.get("login:user42").await.unwrap(), None);
    let key = codes.secure_key("login:user42");
    assert!(key.starts_with("NETS_SK_") && key.len() == 72, "{key}");
    assert!(!key.contains("user42"));
    let stored = cache.get(&key).await.unwrap().expect("stored under the digest key");
    let stored = String::from_utf8(stored).unwrap();
    assert_eq!(stored, codes.secure_value("123456"));
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains("123456"));
    // HMAC-SHA256 with the key, as the original library computed it.
    assert_eq!(stored, SecretKey::new(b"test secret key").digest_hex("123456"));

    // What Redis itself holds under this test's prefix: one digest key, one digest value.
    if let Some(prefix) = redis_prefix {
        let mut raw = raw_redis().await;
        let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut raw).await.unwrap();
        assert_eq!(keys, vec![format!("{prefix}{key}")]);
        let value: Vec<u8> = redis::cmd("GET").arg(&keys[0]).query_async(&mut raw).await.unwrap();
        assert_eq!(value, stored.as_bytes());
        let ttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query_async(&mut raw).await.unwrap();
        assert!(ttl > 0 && ttl <= 60_000, "stored with its TTL: {ttl}");
    }

    // Another key gives other digests.
    let other = SecureCache::new(cache.clone(), SecretKey::new(b"another key"));
    assert_ne!(other.secure_key("login:user42"), key);
    assert!(!other.validate("login:user42", "123456").await.unwrap());
}

async fn secure_cache_validates_and_consumes_once(cache: Cache, _: Option<String>) {
    let codes = secure(&cache);
    assert!(!codes.validate("c", "123456").await.unwrap(), "nothing stored");
    assert!(!codes.consume("c", "123456").await.unwrap());
    codes.set("c", "123456", Duration::from_secs(60)).await.unwrap();
    for wrong in ["654321", "12345", "1234567", "", "123456 "] {
        assert!(!codes.validate("c", wrong).await.unwrap(), "{wrong:?}");
        assert!(!codes.consume("c", wrong).await.unwrap(), "{wrong:?}");
    }
    assert!(codes.validate("c", "123456").await.unwrap(), "wrong attempts leave the entry");
    assert!(codes.validate("c", "123456").await.unwrap(), "validate does not consume");
    assert!(codes.consume("c", "123456").await.unwrap());
    assert!(!codes.consume("c", "123456").await.unwrap(), "single use");
    assert!(!codes.validate("c", "123456").await.unwrap());
    // A new value replaces the old one.
    codes.set("c", "111111", Duration::from_secs(60)).await.unwrap();
    codes.set("c", "222222", Duration::from_secs(60)).await.unwrap();
    assert!(!codes.validate("c", "111111").await.unwrap());
    assert!(codes.delete("c").await.unwrap());
    assert!(!codes.validate("c", "222222").await.unwrap());
    // Leading zeros are part of the value.
    codes.set("z", "012345", Duration::from_secs(60)).await.unwrap();
    assert!(!codes.validate("z", "12345").await.unwrap());
    assert!(codes.validate("z", "012345").await.unwrap());
}

async fn concurrent_consumes_of_the_right_code_have_exactly_one_winner(cache: Cache, _: Option<String>) {
    let codes = secure(&cache);
    for round in 0..5 {
        let key = format!("code{round}");
        codes.set(&key, "424242", Duration::from_secs(60)).await.unwrap();
        let attempts = (0..32).map(|i| {
            let (codes, key) = (codes.clone(), key.clone());
            // A few wrong guesses race with the right ones; they must not disturb them.
            let candidate = if i % 8 == 0 { "000000" } else { "424242" };
            tokio::spawn(async move { codes.consume(&key, candidate).await.unwrap() })
        });
        let wins = join_all(attempts).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
        assert_eq!(wins, 1, "round {round}");
        assert!(!codes.validate(&key, "424242").await.unwrap());
    }
}

async fn rate_limit_refuses_beyond_the_limit_until_the_window_ends(cache: Cache, redis_prefix: Option<String>) {
    let limit = RateLimit::new("t", 3, Duration::from_millis(1500));
    for _ in 0..3 {
        limit.hit(&cache, "ip-1").await.unwrap();
    }
    match limit.hit(&cache, "ip-1").await {
        Err(ApiError::TooManyRequests { retry_after }) => assert!((1..=2).contains(&retry_after), "{retry_after}"),
        other => panic!("expected 429, got {other:?}"),
    }
    limit.hit(&cache, "ip-2").await.expect("keys are counted apart");
    RateLimit::new("other", 3, Duration::from_secs(60)).hit(&cache, "ip-1").await.expect("limits are counted apart");
    if let Some(prefix) = redis_prefix {
        // Counter keys carry a digest of the client's key, never the key itself.
        let mut raw = raw_redis().await;
        let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut raw).await.unwrap();
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert!(keys.iter().all(|k| k.starts_with(&format!("{prefix}rl:")) && !k.contains("ip-")), "{keys:?}");
    }
    tokio::time::sleep(Duration::from_millis(1600)).await;
    limit.hit(&cache, "ip-1").await.expect("a new window");
}

#[tokio::test]
async fn settings_choose_the_backend() {
    let memory = Cache::from_settings(&nets_tests::settings("REDIS_URL = ''")).await.unwrap();
    memory.set("k", b"v", Duration::from_secs(60)).await.unwrap();
    assert_eq!(memory.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));

    let Some(url) = redis_url() else { return eprintln!("Redis part skipped: {REDIS_ENV} is not set") };
    let prefix = prefix();
    let settings = nets_tests::settings(&format!("REDIS_URL = '{url}'\nNETS_CORE_CACHE_KEY_PREFIX = '{prefix}'"));
    let shared = Cache::from_settings(&settings).await.unwrap();
    shared.set("k", b"in redis", Duration::from_secs(60)).await.unwrap();
    let mut raw = raw_redis().await;
    let value: Vec<u8> = redis::cmd("GET").arg(format!("{prefix}k")).query_async(&mut raw).await.unwrap();
    assert_eq!(value, b"in redis");
    // A second handle (another process, in production) sees the same entries.
    let other = Cache::from_settings(&settings).await.unwrap();
    assert_eq!(other.take("k").await.unwrap().as_deref(), Some(&b"in redis"[..]));
    assert_eq!(shared.get("k").await.unwrap(), None);
}

#[tokio::test]
async fn an_unreachable_redis_is_an_error_at_startup() {
    let err = Cache::redis("redis://127.0.0.1:1/", "x:").await.unwrap_err();
    assert!(matches!(err, CacheError::Redis(_)), "{err}");
    assert!(Cache::redis("not a url", "x:").await.is_err());
}

#[tokio::test]
async fn secure_cache_key_comes_from_settings() {
    let settings = nets_tests::settings(
        "NETS_CORE_SECURE_CACHE_KEY = 'cache key'\nSECRET_KEY = 'app key-xxxxxxxxxxxxxxxxxxxxxxxx'",
    );
    let codes = SecureCache::from_settings(Cache::memory(10), &settings).unwrap();
    assert_eq!(codes.secure_value("v"), SecretKey::new(b"cache key").derive("secure-cache").digest_hex("v"));
    let settings = nets_tests::settings("SECRET_KEY = 'app key-xxxxxxxxxxxxxxxxxxxxxxxx'");
    let codes = SecureCache::from_settings(Cache::memory(10), &settings).unwrap();
    assert_eq!(
        codes.secure_value("v"),
        SecretKey::new(b"app key-xxxxxxxxxxxxxxxxxxxxxxxx").derive("secure-cache").digest_hex("v")
    );
    // Never the raw key: a digest it makes is no key derived for another purpose (with
    // the raw key, `secure_value("nets:oauth-token")` was the access-token key).
    let raw = SecretKey::new(b"app key-xxxxxxxxxxxxxxxxxxxxxxxx");
    for purpose in ["oauth-token", "oauth-client-secret", "secure-cache"] {
        let derived = raw.derive(purpose).digest_hex("probe");
        let forged = SecretKey::new(&hex_bytes(&codes.secure_value(&format!("nets:{purpose}")))).digest_hex("probe");
        assert_ne!(derived, forged, "{purpose}");
    }
    // Neither, outside DEBUG: refused.
    assert!(SecureCache::from_settings(Cache::memory(10), &nets_tests::settings("")).is_err());
    assert!(SecureCache::from_settings(Cache::memory(10), &nets_tests::settings("DEBUG = true")).is_ok());
}

// Over HTTP: a rate-limited endpoint answers 429 with `Retry-After` in nets' envelope.
static LIMITED: RateLimit = RateLimit::new("http", 2, Duration::from_secs(30));

#[request_handler(path = "limited/", method = POST, public)]
async fn limited(ctx: Ctx) -> ApiResult<&'static str> {
    let cache = ctx.state::<Cache>().ok_or_else(|| ApiError::internal("no cache"))?;
    let ip = ctx.client_ip().map(|ip| ip.to_string()).unwrap_or_default();
    LIMITED.hit(cache, &ip).await?;
    Ok("ok")
}

#[tokio::test]
async fn rate_limited_endpoint_answers_429_with_retry_after() {
    let app = App::builder(Settings::default()).state(Cache::memory(100));
    let server = TestServer::start(app.routes(build_urlpatterns!().unwrap()).build().expect("app").router()).await;
    server.send(server.post("/limited/")).await.assert_data(json!("ok"));
    server.send(server.post("/limited/")).await.assert_data(json!("ok"));
    let reply = server.send(server.post("/limited/")).await;
    let retry: u64 = reply.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    reply.assert_error(429, &format!("too many requests: retry in {retry} seconds"));
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0)).collect()
}
