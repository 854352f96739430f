//! Issue 11 hardening of the account and OAuth endpoints, over real HTTP: secrets are
//! read from the body only and never logged, NUL characters are refused with a 400
//! naming the parameter (PostgreSQL would answer 500), testers, lockouts and guess caps,
//! timing and account creation, and the delete page's headers. SQLite by default,
//! PostgreSQL when `NETS_TEST_DATABASE_URL` is set.

mod accounts_common;

use accounts_common::Fixture;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use nets_runtime::accounts::Accounts;
use nets_runtime::cache::Cache;
use nets_runtime::db::Db;
use nets_runtime::oauth::OAuth;
use nets_runtime::prelude::*;
use nets_runtime::users::UserTable;
use nets_tests::Reply;
use nets_tests::db::test_db;
use serde_json::{Value, json};

const DEBUG: &str = "SECRET_KEY = 'accounts hardening secret-xxxxxx'\nDEBUG = true";
const CODE: &str = "123456";

/// The shared fixture (`accounts_common`), with this suite's helpers.
impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_settings(DEBUG).await
    }

    fn secret(&self) -> String {
        self.client.client_secret.clone().unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.server.send(self.server.post_json(path, body)).await
    }

    async fn form(&self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.server.send(self.server.post(path).form(form)).await
    }

    async fn authenticate(&self, email: &str, code: &str) -> Reply {
        let body =
            json!({"email": email, "code": code, "client_id": self.client.client_id, "client_secret": self.secret()});
        self.post("/authenticate/", body).await
    }

    /// Logs in with the debug code; the access and refresh tokens.
    async fn tokens(&self, email: &str) -> (String, String) {
        let reply = self.post("/login/", json!({"email": email})).await;
        assert_eq!(reply.json["data"], "CODE SENT", "{}", reply.text());
        let reply = self.authenticate(email, CODE).await;
        let data = reply.data();
        (data["access_token"].as_str().unwrap().to_owned(), data["refresh_token"].as_str().unwrap().to_owned())
    }

    async fn count(&self, sql: &'static str) -> i64 {
        match &self.db.db {
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        }
    }
}

/// An OAuth error body: `{"error": code, "error_description": ..}`; the description.
#[track_caller]
fn oauth_error(reply: &Reply, status: u16, code: &str) -> String {
    assert_eq!((reply.status, reply.json["error"].as_str()), (status, Some(code)), "{}", reply.text());
    reply.json["error_description"].as_str().unwrap_or_default().to_owned()
}

// ---------------------------------------------------------------------------------------
// Item 7: secrets never in the query string or the logs.

/// Everything the process logs, from the first test that asks on.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .try_init()
            .expect("the only subscriber of this test binary");
        logs
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_in_the_query_string_are_refused_naming_the_parameter() {
    let f = Fixture::new().await;
    let secret = f.secret();
    for name in ["code", "client_secret"] {
        let path = format!("/authenticate/?{name}=123456");
        let body = json!({"email": "ada@x.io", "code": CODE, "client_id": f.client.client_id, "client_secret": secret});
        let reply = f.post(&path, body).await;
        reply.assert_invalid(name, "send it in the request body, never in the URL (query strings are logged)");
    }
    // The original's way of sending everything in the query no longer logs anyone in.
    let reply = f.post("/login/", json!({"email": "ada@x.io"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let path =
        format!("/authenticate/?email=ada@x.io&code={CODE}&client_id={}&client_secret={secret}", f.client.client_id);
    assert_eq!(f.post(&path, json!({})).await.status, 400);
    // Still usable from the body; the refused requests issued no token.
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_access_token").await, 0);
    assert_eq!(f.authenticate("ada@x.io", CODE).await.status, 200);

    // The OAuth endpoints answer `invalid_request` naming it.
    let (_, refresh) = f.tokens("bob@x.io").await;
    let form =
        [("grant_type", "refresh_token"), ("client_id", f.client.client_id.as_str()), ("client_secret", &secret)];
    let reply = f.form(&format!("/o/token/?refresh_token={refresh}"), &form).await;
    let description = oauth_error(&reply, 400, "invalid_request");
    assert!(description.contains("'refresh_token'"), "{description}");
    let reply =
        f.form("/o/revoke_token/?token=abc", &[("client_id", &f.client.client_id), ("client_secret", &secret)]).await;
    assert!(oauth_error(&reply, 400, "invalid_request").contains("'token'"));
    let reply = f.form(&format!("/o/token/?client_secret={secret}"), &[("grant_type", "refresh_token")]).await;
    assert!(oauth_error(&reply, 400, "invalid_request").contains("'client_secret'"));
    // The refresh token was not spent by the refused request.
    let mut body = form.to_vec();
    body.push(("refresh_token", &refresh));
    assert_eq!(f.form("/o/token/", &body).await.status, 200);
}

#[tokio::test]
async fn request_logs_hold_the_path_never_the_query() {
    let logs = captured_logs();
    let f = Fixture::new().await;
    let reply = f.post("/login/?note=leaky-value-7f3a", json!({"email": "ada@x.io"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let reply = f.post("/authenticate/?code=999111&client_secret=query-secret-9c2e", json!({})).await;
    assert_eq!(reply.status, 400);
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(text.contains("path=/login/"), "the request span names the path: {text}");
    for leak in ["leaky-value-7f3a", "query-secret-9c2e", "999111"] {
        assert!(!text.contains(leak), "{leak} was logged: {text}");
    }
}

// ---------------------------------------------------------------------------------------
// Item 13: NUL (U+0000) in text is a 400 naming the parameter (PostgreSQL answered 500).

#[tokio::test]
async fn nul_characters_in_account_inputs_are_400_naming_the_parameter() {
    let f = Fixture::new().await;
    let nul = "must not contain the NUL character (U+0000)";
    // /login/: the device name, as JSON, as a JSON-encoded string in a form, and the address.
    f.post("/login/", json!({"email": "ada@x.io", "device": {"name": "a\u{0}b"}}))
        .await
        .assert_invalid("device.name", nul);
    let device = r#"{"name":"a\u0000b"}"#;
    f.form("/login/", &[("email", "ada@x.io"), ("device", device)]).await.assert_invalid("device.name", nul);
    f.form("/login/", &[("email", "ada\0@x.io")]).await.assert_invalid("email", nul);
    // /authenticate/: client_id (and any other field).
    let body = json!({"email": "ada@x.io", "code": CODE, "client_id": "x\u{0}y", "client_secret": f.secret()});
    f.post("/authenticate/", body).await.assert_invalid("client_id", nul);
    let id = format!("{}\0", f.client.client_id);
    let secret = f.secret();
    let form = [("email", "ada@x.io"), ("code", CODE), ("client_id", id.as_str()), ("client_secret", secret.as_str())];
    f.form("/authenticate/", &form).await.assert_invalid("client_id", nul);
    // Nothing was written by the refused login: the first real login works.
    let (token, _) = f.tokens("ada@x.io").await;
    // /update/: JSON, form and multipart.
    let update = |body: reqwest::RequestBuilder| f.server.send(body.bearer_auth(&token));
    update(f.server.post_json("/update/", json!({"first_name": "a\u{0}b"}))).await.assert_invalid("first_name", nul);
    update(f.server.post("/update/").form(&[("first_name", "a\0b")])).await.assert_invalid("first_name", nul);
    let multipart = reqwest::multipart::Form::new().text("first_name", "a\0b");
    update(f.server.post("/update/").multipart(multipart)).await.assert_invalid("first_name", nul);
    // /getProfile/ reads `fields` from the query.
    let reply = f.server.send(f.server.get("/getProfile/?fields=id%00").bearer_auth(&token)).await;
    reply.assert_invalid("fields", nul);
    let profile = f.server.send(f.server.get("/getProfile/").bearer_auth(&token)).await;
    assert_eq!(profile.data()["first_name"], "", "nothing written");
}

#[tokio::test]
async fn nul_characters_and_bad_utf8_in_oauth_requests_are_invalid_request() {
    let f = Fixture::new().await;
    let (_, refresh) = f.tokens("ada@x.io").await;
    let secret = f.secret();
    let id = format!("{}\0", f.client.client_id);
    let refresh_form =
        [("grant_type", "refresh_token"), ("refresh_token", &refresh), ("client_id", &id), ("client_secret", &secret)];
    let description = oauth_error(&f.form("/o/token/", &refresh_form).await, 400, "invalid_request");
    assert_eq!(description, "invalid value for parameter 'client_id': must not contain the NUL character (U+0000)");
    let revoke_form = [("token", refresh.as_str()), ("client_id", &id), ("client_secret", &secret)];
    let description = oauth_error(&f.form("/o/revoke_token/", &revoke_form).await, 400, "invalid_request");
    assert!(description.contains("'client_id'"), "{description}");
    // In HTTP Basic client authentication: the client is not authenticated (401).
    let basic = f.server.post("/o/token/").basic_auth(&id, Some(&secret)).form(&[("grant_type", "refresh_token")]);
    oauth_error(&f.server.send(basic).await, 401, "invalid_client");
    // Bad UTF-8 is not turned into U+FFFD.
    let raw = f
        .server
        .post("/o/token/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"grant_type=refresh_token&client_id=%FF".to_vec());
    let description = oauth_error(&f.server.send(raw).await, 400, "invalid_request");
    assert_eq!(description, "invalid value for parameter 'client_id': must be valid UTF-8");
    // The refresh token still works: nothing above reached it.
    let ok = [
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh),
        ("client_id", &f.client.client_id),
        ("client_secret", &secret),
    ];
    assert_eq!(f.form("/o/token/", &ok).await.status, 200);
}

#[tokio::test]
async fn custom_login_flows_with_a_nul_client_id_fail_cleanly() {
    // `Accounts::authenticate` for custom flows: a NUL client id is a failed client
    // authentication, not a database error.
    let db = test_db().await;
    let settings = nets_tests::settings(DEBUG);
    let oauth = OAuth::from_settings(&settings, &db.db).await.unwrap();
    let users = UserTable::load(&db.db, &settings).await.unwrap();
    let accounts = Accounts::new(oauth, users, Cache::memory(100), &settings).unwrap();
    let err = accounts.authenticate("ada@x.io", CODE, "a\0b", "s", None).await.unwrap_err();
    assert_eq!(err.to_string(), "Invalid client_id or client_secret");
}

// ---------------------------------------------------------------------------------------
// Item 5: testers are exact addresses, never create accounts, and need 8-digit codes.

const TESTERS: &str = "SECRET_KEY = 'accounts hardening secret-xxxxxx'\nDEBUG = false\n\
                       NETS_CORE_TESTERS_EMAILS = ['reviewer@store.example']\n\
                       NETS_CORE_TESTERS_VERIFICATION_CODE = '04756312'";

#[tokio::test]
async fn outside_debug_tester_patterns_and_short_codes_refuse_to_start() {
    let db = test_db().await;
    let start = |toml: &str| {
        let settings = nets_tests::settings(toml);
        let db = db.db.clone();
        async move {
            let oauth = OAuth::from_settings(&settings, &db).await.unwrap();
            let users = UserTable::load(&db, &settings).await.unwrap();
            Accounts::new(oauth, users, Cache::memory(10), &settings).map(drop).map_err(|e| e.to_string())
        }
    };
    let base = "SECRET_KEY = 'k-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\nDEBUG = false";
    let pattern = start(&format!(
        "{base}\nNETS_CORE_TESTERS_EMAILS = ['review*']\nNETS_CORE_TESTERS_VERIFICATION_CODE = '04756312'"
    ))
    .await;
    assert!(pattern.as_ref().is_err_and(|e| e.contains("'review*' is a pattern")), "{pattern:?}");
    let short = start(&format!(
        "{base}\nNETS_CORE_TESTERS_EMAILS = ['a@x.io']\nNETS_CORE_TESTERS_VERIFICATION_CODE = '047563'"
    ))
    .await;
    assert!(short.as_ref().is_err_and(|e| e.contains("at least 8 digits")), "{short:?}");
    let letters = start(&format!(
        "{base}\nNETS_CORE_TESTERS_EMAILS = ['a@x.io']\nNETS_CORE_TESTERS_VERIFICATION_CODE = 'abcdefgh'"
    ))
    .await;
    assert!(letters.is_err(), "{letters:?}");
    // Exact addresses with a long code start; so do patterns in DEBUG.
    assert_eq!(start(TESTERS).await, Ok(()));
    let debug = "SECRET_KEY = 'k-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\nDEBUG = true\nNETS_CORE_TESTERS_EMAILS = ['review*']\n\
                 NETS_CORE_TESTERS_VERIFICATION_CODE = '0475'";
    assert_eq!(start(debug).await, Ok(()));
}

#[tokio::test]
async fn the_tester_code_never_creates_an_account_nor_matches_look_alikes() {
    let f = Fixture::with_settings(TESTERS).await;
    // No account yet: the fixed code does not log in (and creates nothing through it).
    let reply = f.post("/login/", json!({"email": "reviewer@store.example"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    f.authenticate("reviewer@store.example", "04756312")
        .await
        .assert_error(400, "Invalid code for this user and device");
    // A look-alike real account never gets the fixed code.
    match &f.db.db {
        Db::Sqlite(pool) => sqlx::query("INSERT INTO nets_user (email) VALUES ('reviewer.jane@store.example')")
            .execute(pool)
            .await
            .map(drop),
        Db::Postgres(pool) => sqlx::query("INSERT INTO nets_user (email) VALUES ('reviewer.jane@store.example')")
            .execute(pool)
            .await
            .map(drop),
    }
    .unwrap();
    assert_eq!(f.post("/login/", json!({"email": "reviewer.jane@store.example"})).await.status, 200);
    let reply = f.authenticate("reviewer.jane@store.example", "04756312").await;
    reply.assert_error(400, "Invalid code for this user and device");
}

// ---------------------------------------------------------------------------------------
// Item 6: lockouts and guess caps.

/// Behind a trusted proxy (the test client), so `X-Forwarded-For` picks the client.
const PROXIED: &str =
    "SECRET_KEY = 'accounts hardening secret-xxxxxx'\nDEBUG = true\nNETS_CORE_TRUSTED_PROXIES = ['127.0.0.1']";

impl Fixture {
    async fn post_from(&self, ip: &str, path: &str, body: Value) -> Reply {
        self.server.send(self.server.post_json(path, body).header("x-forwarded-for", ip)).await
    }
}

#[tokio::test]
async fn logins_from_elsewhere_cannot_lock_an_address_out() {
    let f = Fixture::with_settings(&format!("{PROXIED}\nNETS_CORE_LOGIN_CODES_PER_IDENTIFIER_CEILING = 8")).await;
    let ada = json!({"email": "ada@x.io"});
    for _ in 0..5 {
        assert_eq!(f.post_from("203.0.113.5", "/login/", ada.clone()).await.status, 200);
    }
    assert_eq!(f.post_from("203.0.113.5", "/login/", ada.clone()).await.status, 429, "the attacker's own budget");
    // The owner, elsewhere, still gets codes...
    assert_eq!(f.post_from("198.51.100.7", "/login/", ada.clone()).await.status, 200);
    assert_eq!(f.post_from("198.51.100.8", "/login/", ada.clone()).await.status, 200);
    // ...up to the per-identifier ceiling (8 in all here), which bounds the e-mails sent.
    assert_eq!(f.post_from("198.51.100.9", "/login/", ada.clone()).await.status, 200);
    assert_eq!(f.post_from("198.51.100.10", "/login/", ada).await.status, 429);
}

#[tokio::test]
async fn ipv6_clients_are_limited_by_their_64_network() {
    let f = Fixture::with_settings(&format!("{PROXIED}\nNETS_CORE_LOGIN_REQUESTS_PER_IP = 2")).await;
    let login = |n: u32| json!({"email": format!("u{n}@x.io")});
    assert_eq!(f.post_from("2001:db8:1:2::1", "/login/", login(1)).await.status, 200);
    assert_eq!(f.post_from("2001:db8:1:2::2", "/login/", login(2)).await.status, 200);
    let reply = f.post_from("2001:db8:1:2:ffff::9", "/login/", login(3)).await;
    assert_eq!(reply.status, 429, "another address of the same /64: {}", reply.text());
    assert_eq!(f.post_from("2001:db8:1:3::1", "/login/", login(4)).await.status, 200);
}

#[tokio::test]
async fn code_guesses_are_capped_per_account_and_device() {
    let toml = format!("{PROXIED}\nNETS_CORE_CODE_CHECKS_PER_ACCOUNT_PER_HOUR = 3");
    let f = Fixture::with_settings(&toml).await;
    let reply = f.post_from("198.51.100.7", "/login/", json!({"email": "ada@x.io", "device": {"name": "phone"}})).await;
    let device = reply.json["extra"]["device_uuid"].as_str().unwrap().to_owned();
    let guess =
        json!({"email": "ada@x.io", "code": "000000", "client_id": f.client.client_id, "client_secret": f.secret()});
    // Guesses from many addresses (no per-address limit helps) are capped per account.
    for n in 0..3 {
        let reply = f.post_from(&format!("203.0.113.{n}"), "/authenticate/", guess.clone()).await;
        reply.assert_error(400, "Invalid code for this user and device");
    }
    let reply = f.post_from("203.0.113.99", "/authenticate/", guess.clone()).await;
    assert_eq!(reply.status, 429, "{}", reply.text());
    assert!(reply.header("retry-after").is_some());
    // The owner's device has a budget of its own, and its code is intact.
    let mut own = guess;
    own["code"] = json!(CODE);
    own["device_uuid"] = json!(device);
    assert_eq!(f.post_from("198.51.100.7", "/authenticate/", own).await.status, 200);
}

#[tokio::test]
async fn without_a_client_address_the_per_address_limits_still_hold() {
    // Served without connect info: no client address. The per-address limit is shared by
    // all such clients rather than switched off.
    let db = test_db().await;
    let settings = nets_tests::settings(&format!("{DEBUG}\nNETS_CORE_LOGIN_REQUESTS_PER_IP = 2"));
    let oauth = OAuth::from_settings(&settings, &db.db).await.unwrap();
    let users = UserTable::load(&db.db, &settings).await.unwrap();
    let accounts = Accounts::new(oauth, users, Cache::memory(100), &settings).unwrap();
    let router = App::builder(settings).database(db.db.clone()).install(accounts).build().expect("app").router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    // rustls (nets' push client) needs its crypto provider before any client.
    nets_runtime::install_crypto_provider();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut statuses = Vec::new();
    for n in 0..3 {
        let body = json!({"email": format!("u{n}@x.io")});
        statuses.push(client.post(format!("{base}/login/")).json(&body).send().await.unwrap().status().as_u16());
    }
    server.abort();
    assert_eq!(statuses, [200, 200, 429]);
}

/// The directives of a `Content-Security-Policy`, by name.
fn csp_directives(policy: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    policy
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_whitespace().map(str::to_owned);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

#[tokio::test]
async fn the_delete_page_sends_a_strict_content_security_policy() {
    let f = Fixture::new().await;
    for request in [f.server.get("/requestDelete/"), f.server.post("/requestDelete/")] {
        let page = f.server.send(request).await;
        assert_eq!(page.status, 200);
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        let policy = page.header("content-security-policy").expect("a Content-Security-Policy");
        let directives = csp_directives(policy);
        let names: Vec<&str> = directives.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["base-uri", "connect-src", "default-src", "form-action", "frame-ancestors", "script-src", "style-src"],
            "exactly what the page needs: {policy}"
        );
        assert_eq!(directives["default-src"], ["'none'"]);
        assert_eq!(directives["frame-ancestors"], ["'none'"]);
        assert_eq!(directives["form-action"], ["'self'"]);
        assert_eq!(directives["connect-src"], ["'self'"], "the page posts to /login/ and /delete/");
        assert_eq!(directives["base-uri"], ["'none'"]);
        // Inline code only by hash: one per inline element of the page, nothing broader.
        let text = page.text();
        for (directive, element) in [("script-src", "<script>"), ("style-src", "<style>")] {
            let sources = &directives[directive];
            assert_eq!(sources.len(), text.matches(element).count(), "{directive}: {policy}");
            assert!(
                sources.iter().all(|s| s.starts_with("'sha256-") && s.ends_with("='")),
                "{directive} allows hashes only: {policy}"
            );
        }
        assert!(!policy.contains("unsafe") && !policy.contains('*') && !policy.contains("http"), "{policy}");
    }
}

#[tokio::test]
async fn a_replaced_delete_page_gets_hashes_for_its_own_inline_code_only() {
    let dir = std::env::temp_dir().join(format!("nets-delete-csp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("page.html");
    std::fs::write(
        &path,
        "<h1>{{ title }}</h1><script>go()</script><script src=\"https://cdn.example/x.js\"></script>",
    )
    .unwrap();
    let f = Fixture::with_settings(&format!("{DEBUG}\nNETS_CORE_DELETE_ACCOUNT_TEMPLATE = '{}'", path.display())).await;
    let page = f.server.send(f.server.get("/requestDelete/")).await;
    let policy = page.header("content-security-policy").expect("a Content-Security-Policy");
    let directives = csp_directives(policy);
    // SHA-256 of `go()`, base64: the external script stays blocked, no style is allowed.
    assert_eq!(directives["script-src"], ["'sha256-5KYv+PUboo5h+0+YAtGRPbwv5d/QxzHslP4YGnUaxRw='"], "{policy}");
    assert!(!directives.contains_key("style-src"), "{policy}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn a_wrong_code_is_answered_without_waiting_for_its_count_to_be_written() {
    // A wrong code for an account with a pending code used to write `attempts + 1` before
    // answering, so it took several times longer than a try for an unknown address and
    // told who was logging in. With the codes table locked by another transaction, the
    // wrong try must still be answered; the count lands once the lock is gone, and five
    // wrong tries still kill the code. (Timings are measured by `accounts_timing`.)
    let f = Fixture::new().await;
    f.tokens("ada@x.io").await;
    assert_eq!(f.post("/login/", json!({"email": "ada@x.io"})).await.status, 200);
    let lock = |db: &Db| {
        let db = db.clone();
        async move {
            let sql = "UPDATE nets_verification_code SET updated = updated";
            match db {
                Db::Sqlite(pool) => {
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query(sql).execute(&mut *tx).await.unwrap();
                    (Some(tx), None)
                }
                Db::Postgres(pool) => {
                    let mut tx = pool.begin().await.unwrap();
                    sqlx::query(sql).execute(&mut *tx).await.unwrap();
                    (None, Some(tx))
                }
            }
        }
    };
    let (sqlite_lock, postgres_lock) = lock(&f.db.db).await;
    let wrong = tokio::time::timeout(std::time::Duration::from_secs(3), f.authenticate("ada@x.io", "111111")).await;
    let wrong = wrong.expect("a wrong code is answered while its count cannot be written yet");
    wrong.assert_error(400, "Invalid code for this user and device");
    if let Some(tx) = sqlite_lock {
        tx.commit().await.unwrap();
    }
    if let Some(tx) = postgres_lock {
        tx.commit().await.unwrap();
    }
    let mut attempts = 0;
    for _ in 0..100 {
        attempts =
            f.count("SELECT CAST(MAX(attempts) AS BIGINT) FROM nets_verification_code WHERE consumed_at IS NULL").await;
        if attempts == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(attempts, 1, "the wrong try is counted after the answer");
    // Four more, back to back (their writes may not have landed): the code is dead.
    for _ in 0..4 {
        f.authenticate("ada@x.io", "111111").await.assert_error(400, "Invalid code for this user and device");
    }
    f.authenticate("ada@x.io", CODE).await.assert_error(400, "Invalid code for this user and device");
}

#[tokio::test]
async fn a_login_creates_no_account_and_cannot_squat_an_address() {
    // E-mail mode: /login/ for any address used to create its row. Now only the first
    // successful /authenticate/ does.
    let f = Fixture::new().await;
    assert_eq!(f.post("/login/", json!({"email": "someone@x.io", "device": {"name": "p"}})).await.status, 200);
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user").await, 0, "a login creates no account");
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user_device").await, 0, "nor a device");
    f.authenticate("someone@x.io", "111111").await.assert_error(400, "Invalid code for this user and device");
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user").await, 0, "a wrong code creates nothing");

    // Username mode: a login for a new username with the victim's address used to create
    // that account at once, and the victim could then never register the address. Now
    // nothing is reserved until the code (sent only to that address) is used.
    let f = Fixture::with_settings(&format!("{DEBUG}\nNETS_CORE_USER_IDENTIFIER = 'username'")).await;
    let squat = json!({"username": "mallory", "email": "victim@x.io"});
    assert_eq!(f.post("/login/", squat).await.status, 200);
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user").await, 0, "the address is not reserved by a login");
    assert_eq!(f.post("/login/", json!({"username": "victim", "email": "victim@x.io"})).await.status, 200);
    let body =
        json!({"username": "victim", "code": CODE, "client_id": f.client.client_id, "client_secret": f.secret()});
    let reply = f.post("/authenticate/", body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.data()["user"]["email"], "victim@x.io");
    // The squatter's pending code can no longer create an account with that address.
    let body =
        json!({"username": "mallory", "code": CODE, "client_id": f.client.client_id, "client_secret": f.secret()});
    f.post("/authenticate/", body).await.assert_error(400, "Invalid code for this user and device");
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user").await, 1);
}
