//! The bearer-token cache (`NETS_CORE_TOKEN_CACHE_SECONDS`): a cached token costs no
//! query, every revocation made through nets reaches every instance on its next request
//! (two servers over one database, synced through the database or Redis), expiry and the
//! cache time bound an entry, and with the cache off (`0`) every request reads the database.
//! SQLite by default, PostgreSQL with `NETS_TEST_DATABASE_URL`, the Redis tier with
//! `NETS_TEST_REDIS_URL`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;

use axum::http::Request;
use chrono::Utc;
use nets_runtime::accounts::Accounts;
use nets_runtime::auth::{AuthUser, Authenticator, MaybeAsync};
use nets_runtime::cache::Cache;
use nets_runtime::db::Db;
use nets_runtime::oauth::{ClientType, NewApplication, OAuth, Tokens};
use nets_runtime::perms::Perms;
use nets_runtime::prelude::*;
use nets_runtime::users::UserTable;
use nets_tests::db::{TestDb, create_user, test_db};
use nets_tests::{Reply, TestServer};
use serde_json::{Value, json};

/// Who the bearer token belongs to.
#[request_handler(path = "me/", method = GET)]
async fn me(ctx: Ctx) -> ApiResult<i64> {
    Ok(ctx.require_user()?.id)
}

/// DEBUG: every account code is 123456.
const BASE: &str = "SECRET_KEY = 'token cache test secret-xxxxxxxx'\nDEBUG = true";
const CODE: &str = "123456";
/// Cache on, long enough that only a revocation, expiry or the test ends an entry.
const CACHED: &str = "NETS_CORE_TOKEN_CACHE_SECONDS = 60";
/// Cache off.
const OFF: &str = "NETS_CORE_TOKEN_CACHE_SECONDS = 0";

fn settings(extra: &str) -> Settings {
    nets_tests::settings(&format!("{BASE}\n{extra}"))
}

/// The Redis tier's settings: generation keys of its own. `None` without
/// `NETS_TEST_REDIS_URL`.
struct RedisTier {
    url: String,
    tokens_key: String,
    perms_key: String,
    settings: String,
}

fn redis_tier() -> Option<RedisTier> {
    let Ok(url) = std::env::var("NETS_TEST_REDIS_URL") else {
        eprintln!("NETS_TEST_REDIS_URL is not set: the Redis tier of this test did not run");
        return None;
    };
    let id = uuid::Uuid::new_v4().simple();
    let (tokens_key, perms_key) = (format!("nets-test:{id}:tokens"), format!("nets-test:{id}:perms"));
    let settings = format!(
        "REDIS_URL = '{url}'\nNETS_CORE_PERMISSIONS_SYNC = 'redis'\n\
         NETS_CORE_TOKEN_CACHE_REDIS_KEY = '{tokens_key}'\nNETS_CORE_PERMISSIONS_REDIS_KEY = '{perms_key}'"
    );
    Some(RedisTier { url, tokens_key, perms_key, settings })
}

impl RedisTier {
    /// Checks that the token generation lived in Redis, then removes the test's keys.
    async fn token_generation_was_in_redis(self) {
        let client = redis::Client::open(self.url.as_str()).expect("NETS_TEST_REDIS_URL");
        let mut connection = client.get_multiplexed_async_connection().await.expect("Redis");
        let generation: Option<u64> =
            redis::cmd("GET").arg(&self.tokens_key).query_async(&mut connection).await.expect("GET");
        assert!(generation.is_some(), "the token generation lives in Redis under {}", self.tokens_key);
        let keys = [&self.tokens_key, &self.perms_key];
        let () = redis::cmd("DEL").arg(&keys).query_async(&mut connection).await.expect("DEL");
    }
}

const DATABASE_SYNC: &str = "NETS_CORE_PERMISSIONS_SYNC = 'database'";
const LOCAL_SYNC: &str = "NETS_CORE_PERMISSIONS_SYNC = 'local'";

/// One server instance: its own `OAuth` (and so its own token cache) and accounts.
struct Instance {
    oauth: OAuth,
    server: TestServer,
}

async fn instance(db: &TestDb, extra: &str) -> Instance {
    let settings = settings(extra);
    let oauth = match OAuth::from_settings(&settings, &db.db).await {
        Ok(oauth) => oauth,
        Err(e) => panic!("OAuth::from_settings: {e}"),
    };
    let users = UserTable::load(&db.db, &settings).await.expect("user table");
    let accounts = Accounts::new(oauth.clone(), users, Cache::memory(1000), &settings).expect("accounts");
    let app = App::builder(settings)
        .database(db.db.clone())
        .install(oauth.clone())
        .install(accounts)
        .routes(build_urlpatterns!().expect("routes"))
        .build()
        .expect("app");
    Instance { oauth, server: TestServer::start(app.router()).await }
}

impl Instance {
    async fn me(&self, token: &str) -> u16 {
        self.server.send(self.server.get("/me/").bearer_auth(token)).await.status
    }

    async fn post(&self, path: &str, body: Value, token: Option<&str>) -> Reply {
        let request = self.server.post_json(path, body);
        self.server.send(if let Some(token) = token { request.bearer_auth(token) } else { request }).await
    }

    /// `POST path` with form fields and `client`'s credentials (the OAuth endpoints).
    async fn form(&self, path: &str, client: &NewApplication, fields: &[(&str, &str)]) -> Reply {
        let secret = client.client_secret.as_deref().expect("confidential");
        let mut form = vec![("client_id", client.client_id.as_str()), ("client_secret", secret)];
        form.extend_from_slice(fields);
        self.server.send(self.server.post(path).form(&form)).await
    }

    async fn refresh(&self, client: &NewApplication, refresh_token: &str) -> Reply {
        self.form("/o/token/", client, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
    }

    /// `/login/` then `/authenticate/` for `email` (created on first login): the access token.
    async fn log_in(&self, client: &NewApplication, email: &str) -> String {
        assert_eq!(self.post("/login/", json!({"email": email}), None).await.status, 200);
        let secret = client.client_secret.as_deref().expect("confidential");
        let body = json!({"email": email, "code": CODE, "client_id": client.client_id, "client_secret": secret});
        let reply = self.post("/authenticate/", body, None).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.data()["access_token"].as_str().expect("access_token").to_owned()
    }
}

/// Deletes a token's row in plain SQL, behind nets' back.
async fn delete_behind_nets_back(db: &Db, oauth: &OAuth, access_token: &str) {
    let sql = "DELETE FROM nets_access_token WHERE token_digest = $1";
    let digest = oauth.token_digest(access_token);
    let deleted = match db {
        Db::Sqlite(pool) => sqlx::query(sql).bind(&digest).execute(pool).await.map(|r| r.rows_affected()),
        Db::Postgres(pool) => sqlx::query(sql).bind(&digest).execute(pool).await.map(|r| r.rows_affected()),
    };
    assert_eq!(deleted.unwrap_or_else(|e| panic!("{sql}: {e}")), 1);
}

async fn generation(db: &Db, row: i64) -> i64 {
    let sql = "SELECT generation FROM nets_perm_generation WHERE id = $1";
    let found = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).bind(row).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).bind(row).fetch_one(pool).await,
    };
    found.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// One instance, one user, one client.
struct Single {
    db: TestDb,
    node: Instance,
    user: i64,
    client: NewApplication,
}

async fn single(extra: &str) -> Single {
    let db = test_db().await;
    let node = instance(&db, extra).await;
    let user = create_user(&db, "ada@example.com").await;
    let client = node.oauth.create_application("app", ClientType::Confidential).await.expect("client");
    Single { db, node, user, client }
}

impl Single {
    async fn tokens(&self) -> Tokens {
        self.node.oauth.generate_tokens(self.user, self.client.id, None).await.expect("tokens")
    }
}

/// A cached token answers without its row; `invalidate_tokens` ends that at once.
async fn a_hit_needs_no_token_row_until_invalidated(sync: &str) {
    let s = single(&format!("{CACHED}\n{sync}")).await;
    let token = s.tokens().await.access_token;
    assert_eq!(s.node.me(&token).await, 200);
    delete_behind_nets_back(&s.db, &s.node.oauth, &token).await;
    assert_eq!(s.node.me(&token).await, 200, "a cached token needs no query");
    assert_eq!(s.node.me(&token).await, 200);
    s.node.oauth.invalidate_tokens().await.expect("invalidate");
    assert_eq!(s.node.me(&token).await, 401);
}

#[tokio::test]
async fn a_cached_token_outlives_its_row_until_invalidate_tokens_local() {
    a_hit_needs_no_token_row_until_invalidated(LOCAL_SYNC).await;
}

#[tokio::test]
async fn a_cached_token_outlives_its_row_until_invalidate_tokens_database() {
    a_hit_needs_no_token_row_until_invalidated(DATABASE_SYNC).await;
}

#[tokio::test]
async fn a_cached_token_outlives_its_row_until_invalidate_tokens_redis() {
    if let Some(redis) = redis_tier() {
        a_hit_needs_no_token_row_until_invalidated(&redis.settings).await;
        redis.token_generation_was_in_redis().await;
    }
}

/// `NETS_CORE_TOKEN_CACHE_SECONDS = 0`: no cache, a row deleted is seen by the next
/// request; a user deactivated too. (The default is 10 seconds.)
#[tokio::test]
async fn without_the_cache_every_request_reads_the_database() {
    assert_eq!(Settings::default().token_cache_seconds, 10, "on by default, briefly");
    let s = single(OFF).await;
    let token = s.tokens().await.access_token;
    assert_eq!(s.node.me(&token).await, 200);
    delete_behind_nets_back(&s.db, &s.node.oauth, &token).await;
    assert_eq!(s.node.me(&token).await, 401);
    s.node.oauth.invalidate_tokens().await.expect("nothing to invalidate");

    // The same secret, the cache off: nothing cached.
    let plain = OAuth::from_settings(&settings(OFF), &s.db.db).await.expect("SECRET_KEY");
    let token = plain.generate_tokens(s.user, s.client.id, None).await.expect("tokens").access_token;
    let bearer = plain.bearer();
    let app = App::builder(settings(CACHED)).build().expect("app");
    let (parts, _) =
        Request::get("/").header("authorization", format!("Bearer {token}")).body(()).unwrap().into_parts();
    assert!(matches!(bearer.authenticate(&parts, &app), MaybeAsync::Async(_)));
    assert_eq!(bearer.authenticate(&parts, &app).await.expect("valid").map(|u| u.id), Some(s.user));
    assert!(matches!(bearer.authenticate(&parts, &app), MaybeAsync::Async(_)), "no cache when it is off");
}

/// Expiry ends an entry even when the cache time has not run out.
#[tokio::test]
async fn an_expired_token_is_refused_even_when_cached() {
    let s = single(CACHED).await;
    let expires = Utc::now() + chrono::Duration::milliseconds(1500);
    let token = s.node.oauth.generate_tokens(s.user, s.client.id, Some(expires)).await.expect("tokens").access_token;
    assert_eq!(s.node.me(&token).await, 200);
    delete_behind_nets_back(&s.db, &s.node.oauth, &token).await;
    assert_eq!(s.node.me(&token).await, 200, "answered from the cache");
    let left = (expires - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(50)).await;
    assert_eq!(s.node.me(&token).await, 401, "expired: the cached entry must not be used");
}

/// `NETS_CORE_TOKEN_CACHE_SECONDS` bounds an entry of a long-lived token.
#[tokio::test]
async fn the_cache_time_bounds_an_entry() {
    let s = single("NETS_CORE_TOKEN_CACHE_SECONDS = 1").await;
    let token = s.tokens().await.access_token;
    assert_eq!(s.node.me(&token).await, 200);
    delete_behind_nets_back(&s.db, &s.node.oauth, &token).await;
    assert_eq!(s.node.me(&token).await, 200, "answered from the cache");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(s.node.me(&token).await, 401, "older than NETS_CORE_TOKEN_CACHE_SECONDS");
}

/// Malformed tokens are refused before the generation or the token is looked up: with
/// the database closed they still get a 401, where a well-formed token gets a 500.
#[tokio::test]
async fn malformed_tokens_reach_neither_the_cache_nor_the_database() {
    let s = single(&format!("{CACHED}\n{DATABASE_SYNC}")).await;
    let token = s.tokens().await.access_token;
    assert_eq!(s.node.me(&token).await, 200);
    s.db.db.close().await;
    let malformed = [&token[..63], &format!("{token}0"), &format!("{}g", &token[..63]), "not-a-token"];
    for bad in malformed {
        let reply = s.node.server.send(s.node.server.get("/me/").bearer_auth(bad)).await;
        reply.assert_error(401, "authentication required");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer error=\"invalid_token\""), "{bad}");
    }
    assert_eq!(s.node.me(&"0".repeat(64)).await, 500, "a well-formed token is looked up");
}

/// Two instances, A and B, over one database, with the cache on and `sync`.
struct Pair {
    db: TestDb,
    a: Instance,
    b: Instance,
    client: NewApplication,
}

async fn pair(sync: &str) -> Pair {
    let db = test_db().await;
    let extra = format!("{CACHED}\n{sync}");
    let (a, b) = (instance(&db, &extra).await, instance(&db, &extra).await);
    let client = a.oauth.create_application("app", ClientType::Confidential).await.expect("client");
    Pair { db, a, b, client }
}

impl Pair {
    /// A token B has cached.
    async fn cached_on_b(&self, user: i64) -> Tokens {
        let tokens = self.a.oauth.generate_tokens(user, self.client.id, None).await.expect("tokens");
        assert_eq!(self.b.me(&tokens.access_token).await, 200);
        tokens
    }
}

/// Every revocation made through A — logout, `/o/revoke_token/`, a refresh retiring its
/// access token, refresh reuse, account deletion, `invalidate_tokens` — is refused by B
/// on its very next request, though B had the token cached.
async fn revocations_on_a_reach_b(sync: &str) {
    let p = pair(sync).await;
    let ada = create_user(&p.db, "ada@example.com").await;
    let survivor = p.cached_on_b(ada).await.access_token;

    // Behind nets' back B keeps answering from its cache...
    let tokens = p.cached_on_b(ada).await;
    delete_behind_nets_back(&p.db, &p.a.oauth, &tokens.access_token).await;
    assert_eq!(p.b.me(&tokens.access_token).await, 200, "B should answer from its cache");
    // ...until an instance says so.
    p.a.oauth.invalidate_tokens().await.expect("invalidate");
    assert_eq!(p.b.me(&tokens.access_token).await, 401);

    let logout = p.cached_on_b(ada).await.access_token;
    p.a.post("/logout/", json!({}), Some(&logout)).await.assert_data(json!("Logged out successfully"));
    assert_eq!(p.b.me(&logout).await, 401, "logout on A");

    let revoked = p.cached_on_b(ada).await.access_token;
    assert_eq!(p.a.form("/o/revoke_token/", &p.client, &[("token", &revoked)]).await.status, 200);
    assert_eq!(p.b.me(&revoked).await, 401, "/o/revoke_token/ on A");

    let first = p.cached_on_b(ada).await;
    let reply = p.a.refresh(&p.client, &first.refresh_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(p.b.me(&first.access_token).await, 401, "the refresh on A retired it");
    let second = reply.json["access_token"].as_str().expect("access_token").to_owned();
    assert_eq!(p.b.me(&second).await, 200);
    assert_eq!(p.a.refresh(&p.client, &first.refresh_token).await.status, 400, "reuse");
    assert_eq!(p.b.me(&second).await, 401, "reuse on A revoked the family");

    let cy = p.a.log_in(&p.client, "cy@example.com").await;
    assert_eq!(p.b.me(&cy).await, 200);
    assert_eq!(p.a.post("/login/", json!({"email": "cy@example.com"}), None).await.status, 200);
    let deleted = p.a.post("/delete/", json!({"sure": true, "code": CODE}), Some(&cy)).await;
    deleted.assert_data(json!("Account deleted successfully"));
    assert_eq!(p.b.me(&cy).await, 401, "account deleted on A");
    assert_eq!(p.a.me(&cy).await, 401);

    // Each revocation dropped caches, not other logins.
    assert_eq!(p.b.me(&survivor).await, 200);
}

#[tokio::test]
async fn revocations_reach_every_instance_through_the_database() {
    revocations_on_a_reach_b(DATABASE_SYNC).await;
}

#[tokio::test]
async fn revocations_reach_every_instance_through_redis() {
    if let Some(redis) = redis_tier() {
        revocations_on_a_reach_b(&redis.settings).await;
        redis.token_generation_was_in_redis().await;
    }
}

/// `local` is for one process: another instance's revocation is seen only when the entry
/// ages out (which is why `auto` picks the database on PostgreSQL and Redis with
/// `REDIS_URL`).
#[tokio::test]
async fn local_sync_is_for_one_process() {
    let p = pair(LOCAL_SYNC).await;
    let ada = create_user(&p.db, "ada@example.com").await;
    let token = p.cached_on_b(ada).await.access_token;
    p.a.post("/logout/", json!({}), Some(&token)).await.assert_data(json!("Logged out successfully"));
    assert_eq!(p.a.me(&token).await, 401);
    assert_eq!(p.b.me(&token).await, 200, "B cannot know without a shared generation");
}

/// Tokens and permissions keep separate generations: a permission change keeps cached
/// tokens, a revocation keeps cached permissions.
async fn generations_are_separate(sync: &str) {
    let s = single(&format!("{CACHED}\n{sync}")).await;
    let perms = Perms::from_settings(&settings(sync), &s.db).await.expect("perms");
    perms.get_or_create_role_permission("reader", "docs.read").await.expect("grant");
    perms.add_user_to_role(s.user, None, "reader").await.expect("role");
    let user = AuthUser::new(s.user, "ada@example.com");
    assert!(perms.check_perm(&user, "docs.read", None).await.expect("check"));
    let token = s.tokens().await.access_token;
    assert_eq!(s.node.me(&token).await, 200);

    // Both caches now answer without their rows...
    delete_behind_nets_back(&s.db, &s.node.oauth, &token).await;
    nets_tests::db::exec(&s.db, "DELETE FROM nets_user_role").await;
    // ...and a change to one generation leaves the other cache alone.
    perms.invalidate().await.expect("permission change");
    assert_eq!(s.node.me(&token).await, 200, "a permission change must not drop cached tokens");
    assert!(!perms.check_perm(&user, "docs.read", None).await.expect("check"));
    perms.add_user_to_role(s.user, None, "reader").await.expect("role");
    assert!(perms.check_perm(&user, "docs.read", None).await.expect("check"));
    nets_tests::db::exec(&s.db, "DELETE FROM nets_user_role").await;
    let other = s.tokens().await.access_token;
    assert!(s.node.oauth.revoke_token(&other).await.expect("revoke"));
    assert!(perms.check_perm(&user, "docs.read", None).await.expect("check"), "a revocation must keep permissions");
    assert_eq!(s.node.me(&token).await, 401, "the revocation dropped the cached tokens");
}

#[tokio::test]
async fn tokens_and_permissions_have_separate_generations_in_the_database() {
    generations_are_separate(DATABASE_SYNC).await;
}

#[tokio::test]
async fn tokens_and_permissions_have_separate_generations_in_redis() {
    if let Some(redis) = redis_tier() {
        generations_are_separate(&redis.settings).await;
        redis.token_generation_was_in_redis().await;
    }
}

/// The token generation is row 2; the permissions' row 1 is left alone.
#[tokio::test]
async fn the_database_generation_of_tokens_is_its_own_row() {
    let s = single(&format!("{CACHED}\n{DATABASE_SYNC}")).await;
    let (before, permissions) = (generation(&s.db, 2).await, generation(&s.db, 1).await);
    let token = s.tokens().await.access_token;
    assert!(s.node.oauth.revoke_token(&token).await.expect("revoke"));
    assert_ne!(generation(&s.db, 2).await, before, "a revocation replaces the token generation");
    assert_eq!(generation(&s.db, 1).await, permissions, "and leaves the permissions' alone");
    // Revoking nothing live announces nothing.
    let after = generation(&s.db, 2).await;
    assert!(s.node.oauth.revoke_token(&token).await.expect("revoke again"));
    assert_eq!(generation(&s.db, 2).await, after);
}

#[tokio::test]
async fn a_redis_sync_that_cannot_be_used_stops_startup() {
    let db = test_db().await;
    let missing = settings(&format!("{CACHED}\nNETS_CORE_PERMISSIONS_SYNC = 'redis'"));
    let err = OAuth::from_settings(&missing, &db.db).await.expect_err("no REDIS_URL");
    assert!(err.to_string().contains("REDIS_URL is not set"), "{err}");
    let unreachable = settings(&format!("{CACHED}\nREDIS_URL = 'redis://127.0.0.1:1/'"));
    let err = OAuth::from_settings(&unreachable, &db.db).await.expect_err("unreachable");
    assert!(err.to_string().contains("cannot connect to Redis"), "{err}");
    // With the cache off the generation is still kept (live WebSockets end on the
    // revocations it records), so the same mistake stops start-up too.
    let off = settings("NETS_CORE_PERMISSIONS_SYNC = 'redis'");
    let err = OAuth::from_settings(&off, &db.db).await.expect_err("cache off, no REDIS_URL");
    assert!(err.to_string().contains("REDIS_URL is not set"), "{err}");
    // Without a sync that needs it, nothing needs Redis.
    let local = settings("NETS_CORE_PERMISSIONS_SYNC = 'local'");
    assert!(OAuth::from_settings(&local, &db.db).await.is_ok());
}

/// Counts this thread's heap allocations while `COUNTING` is set.
struct CountingAllocator;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note_allocation() {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every call is passed to the system allocator unchanged; counting touches only
// const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// `f()` and the heap allocations it made on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    let out = f();
    COUNTING.with(|on| on.set(false));
    (ALLOCATIONS.with(Cell::get), out)
}

/// With the local sync a hit is answered at once (no I/O), allocating only the caller's
/// copy of the user's identifier, which a miss allocates too.
#[tokio::test]
async fn a_local_hit_is_answered_at_once_with_one_allocation() {
    let s = single(&format!("{CACHED}\n{LOCAL_SYNC}")).await;
    let token = s.tokens().await.access_token;
    let bearer = s.node.oauth.bearer();
    let app = App::builder(settings(CACHED)).build().expect("app");
    let (parts, _) =
        Request::get("/").header("authorization", format!("Bearer {token}")).body(()).unwrap().into_parts();

    let miss = bearer.authenticate(&parts, &app);
    assert!(matches!(miss, MaybeAsync::Async(_)), "the first lookup reads the database");
    assert_eq!(miss.await.expect("valid").map(|u| u.id), Some(s.user));

    let (hit_allocations, hit) = allocations(|| bearer.authenticate(&parts, &app));
    let MaybeAsync::Ready(Some(Ok(Some(user)))) = hit else { panic!("a hit must be answered without waiting") };
    assert_eq!((user.id, user.identifier.as_str()), (s.user, "ada@example.com"));
    assert_eq!(hit_allocations, 1, "only the identifier's copy");
}
