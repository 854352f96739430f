//! The account endpoints (`/login/`, `/authenticate/`, `/logout/`, `/getProfile/`,
//! `/update/`) over real HTTP, with the attacks they must resist. SQLite by default,
//! PostgreSQL when `NETS_TEST_DATABASE_URL` is set.

mod accounts_common;

use accounts_common::Fixture;
use futures_util::future::join_all;
use nets_runtime::db::Db;
use nets_tests::Reply;
use serde_json::{Value, json};

macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match &$db.db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// DEBUG on, e-mail debug off: every code is the debug code.
const DEBUG: &str = "SECRET_KEY = 'accounts test secret-xxxxxxxxxxx'\nDEBUG = true";
const CODE: &str = "123456";

/// The answer to a login: `CODE SENT`.
fn sent(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json["data"], "CODE SENT", "{}", reply.text());
}

/// The shared fixture (`accounts_common`), with this suite's helpers.
impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_settings(DEBUG).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.server.send(self.server.post_json(path, body)).await
    }

    async fn login(&self, body: Value) -> Reply {
        self.post("/login/", body).await
    }

    async fn authenticate(&self, email: &str, code: &str, device: Option<&str>) -> Reply {
        let mut body = json!({
            "email": email,
            "code": code,
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret.as_deref().unwrap(),
        });
        if let Some(device) = device {
            body["device_uuid"] = json!(device);
        }
        self.post("/authenticate/", body).await
    }

    /// Logs in without a device and returns the access and refresh tokens.
    async fn tokens(&self, email: &str) -> (String, String) {
        sent(&self.login(json!({"email": email})).await);
        let reply = self.authenticate(email, CODE, None).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let data = reply.data();
        (data["access_token"].as_str().unwrap().to_owned(), data["refresh_token"].as_str().unwrap().to_owned())
    }

    async fn authed(&self, path: &str, token: &str, body: Value) -> Reply {
        self.server.send(self.server.post_json(path, body).bearer_auth(token)).await
    }

    async fn user_flags(&self, email: &str) -> (i64, bool, bool, bool) {
        on_pool!(self.db, |pool| sqlx::query_as(
            "SELECT id, is_superuser, is_staff, email_verified FROM nets_user WHERE email = $1"
        )
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap())
    }

    /// Username, address and superuser flag of the account named `name`.
    async fn username_row(&self, name: &str) -> Option<(String, String, bool)> {
        on_pool!(self.db, |pool| sqlx::query_as(
            "SELECT username, email, is_superuser FROM nets_user WHERE lower(username) = lower($1)"
        )
        .bind(name)
        .fetch_optional(pool)
        .await
        .unwrap())
    }

    async fn count(&self, sql: &'static str) -> i64 {
        on_pool!(self.db, |pool| sqlx::query_scalar(sql).fetch_one(pool).await.unwrap())
    }
}

#[tokio::test]
async fn login_with_a_device_then_authenticate_gives_tokens_and_the_user() {
    let f = Fixture::new().await;
    let reply = f.login(json!({"email": "Ada@Example.com", "device": {"name": "Pixel", "os": "android"}})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json["data"], "CODE SENT");
    let device = reply.json["extra"]["device_uuid"].as_str().expect("a device uuid").to_owned();

    // E-mails are case-insensitive: the same account whatever the case.
    let reply = f.authenticate("ADA@example.com", CODE, Some(&device)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let data = reply.data();
    assert_eq!(data["access_token"].as_str().unwrap().len(), 64);
    assert_eq!(data["refresh_token"].as_str().unwrap().len(), 64);
    assert!(data["token_expire"].as_str().unwrap().ends_with('Z'));
    assert_eq!(data["user"]["email"], "ada@example.com");
    assert_eq!(data["user"]["email_verified"], true);
    assert!(data["user"]["last_login"].is_string());
    // The configured field order, not alphabetical (issue 17, item 11).
    let keys: Vec<&String> = data["user"].as_object().unwrap().keys().collect();
    let order = ["id", "email", "username", "first_name", "last_name", "email_verified", "last_login", "date_joined"];
    assert_eq!(keys, order, "{}", data["user"]);
    // Django's `date_joined`, as the original's user JSON has it (issue 17).
    assert!(data["user"]["date_joined"].as_str().is_some_and(|d| d.starts_with("20")), "{}", data["user"]);

    let token = data["access_token"].as_str().unwrap();
    let profile = f.server.send(f.server.get("/getProfile/").bearer_auth(token)).await;
    assert_eq!(profile.status, 200, "{}", profile.text());
    assert_eq!(profile.data()["email"], "ada@example.com");
}

#[tokio::test]
async fn a_device_sent_as_a_json_string_in_a_form_is_reused_by_uuid_and_by_firebase_token() {
    let f = Fixture::new().await;
    let device = r#"{"name":"iPhone","firebase_token":"fcm-1","device_id":"hw-77"}"#;
    let first = f.server.send(f.server.post("/login/").form(&[("email", "bo@x.io"), ("device", device)])).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let uuid = first.json["extra"]["device_uuid"].as_str().unwrap().to_owned();
    // The first successful /authenticate/ creates the account and the login's device.
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user_device").await, 0);
    assert_eq!(f.authenticate("bo@x.io", CODE, Some(&uuid)).await.status, 200);
    // The same firebase token: the same device, not a new row.
    let again = f.login(json!({"email": "bo@x.io", "device": {"firebase_token": "fcm-1", "os": "ios"}})).await;
    assert_eq!(again.json["extra"]["device_uuid"], uuid.as_str());
    // By uuid.
    let by_uuid = f.login(json!({"email": "bo@x.io", "device": {"uuid": uuid, "name": "renamed"}})).await;
    assert_eq!(by_uuid.json["extra"]["device_uuid"], uuid.as_str());
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user_device").await, 1);
    // Another user's (or an unknown) uuid is refused.
    let other = f.login(json!({"email": "eve@x.io", "device": {"uuid": uuid}})).await;
    other.assert_error(400, "Invalid device uuid");
}

/// A push token that comes with a login belongs to that device from then on: a device
/// retired by a dead token is active again, and no other row keeps the token (pushes
/// meant for this phone never reach another account).
#[tokio::test]
async fn a_push_token_sent_with_a_login_reactivates_its_device_and_leaves_other_rows() {
    let f = Fixture::new().await;
    let first = f.login(json!({"email": "bo@x.io", "device": {"name": "phone", "firebase_token": "fcm-old"}})).await;
    let uuid = first.json["extra"]["device_uuid"].as_str().unwrap().to_owned();
    assert_eq!(f.authenticate("bo@x.io", CODE, Some(&uuid)).await.status, 200);
    // Push retired it: its token was dead.
    on_pool!(f.db, |pool| {
        sqlx::query(
        "UPDATE nets_user_device SET active = FALSE, firebase_token = NULL, inactive_reason = 'dead_token: UNREGISTERED'"
    )
    .execute(pool)
    .await
    .unwrap()
    .rows_affected()
    });
    let device = async || -> (bool, Option<String>, Option<String>) {
        on_pool!(f.db, |pool| sqlx::query_as(
            "SELECT active, firebase_token, inactive_reason FROM nets_user_device WHERE uuid = $1"
        )
        .bind(uuid.parse::<uuid::Uuid>().unwrap())
        .fetch_one(pool)
        .await
        .unwrap())
    };
    // The app got a new token and logs in again: the device is back.
    sent(&f.login(json!({"email": "bo@x.io", "device": {"uuid": uuid, "firebase_token": "fcm-new"}})).await);
    let mut state = device().await;
    for _ in 0..50 {
        if state.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        state = device().await;
    }
    assert_eq!(state, (true, Some("fcm-new".into()), None));
    // The phone changes hands: Eve logs in on it with the same token.
    let eve = f.login(json!({"email": "eve@x.io", "device": {"firebase_token": "fcm-new"}})).await;
    let eve_device = eve.json["extra"]["device_uuid"].as_str().unwrap().to_owned();
    assert_ne!(eve_device, uuid, "Bo's device is not Eve's");
    assert_eq!(f.authenticate("eve@x.io", CODE, Some(&eve_device)).await.status, 200);
    let mut state = device().await;
    for _ in 0..50 {
        if state.1.is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(40)).await;
        state = device().await;
    }
    assert_eq!(state.1, None, "Bo's row no longer holds the token");
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user_device WHERE firebase_token = 'fcm-new'").await, 1);
}

#[tokio::test]
async fn login_never_writes_other_request_fields_to_the_user() {
    let f = Fixture::new().await;
    let reply = f
        .login(json!({"email": "mallory@x.io", "is_superuser": "true", "is_staff": true, "password": "raw", "id": 999, "email_verified": true}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user").await, 0, "a login creates no account");
    let body = json!({"email": "mallory@x.io", "code": CODE, "client_id": f.client.client_id,
                      "client_secret": f.client.client_secret.as_deref().unwrap(), "is_superuser": true, "id": 999});
    assert_eq!(f.post("/authenticate/", body).await.status, 200);
    let (id, superuser, staff, verified) = f.user_flags("mallory@x.io").await;
    assert_ne!(id, 999);
    assert!(!superuser && !staff);
    assert!(verified, "the code proved the address");
}

#[tokio::test]
async fn the_sixth_attempt_is_refused_even_with_the_right_code() {
    let f = Fixture::new().await;
    sent(&f.login(json!({"email": "ada@x.io"})).await);
    for _ in 0..5 {
        f.authenticate("ada@x.io", "000000", None).await.assert_error(400, "Invalid code for this user and device");
    }
    f.authenticate("ada@x.io", CODE, None).await.assert_error(400, "Invalid code for this user and device");
    // A new login gives a fresh code that works.
    sent(&f.login(json!({"email": "ada@x.io"})).await);
    assert_eq!(f.authenticate("ada@x.io", CODE, None).await.status, 200);
}

#[tokio::test]
async fn a_code_works_once_even_under_concurrent_tries() {
    let f = Fixture::new().await;
    sent(&f.login(json!({"email": "ada@x.io"})).await);
    let replies = join_all((0..8).map(|_| f.authenticate("ada@x.io", CODE, None))).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 400));
    // Replay after the fact.
    f.authenticate("ada@x.io", CODE, None).await.assert_error(400, "Invalid code for this user and device");
}

#[tokio::test]
async fn unknown_users_and_wrong_codes_get_the_same_answer() {
    let f = Fixture::new().await;
    sent(&f.login(json!({"email": "ada@x.io"})).await);
    let known = f.authenticate("ada@x.io", "999999", None).await;
    let unknown = f.authenticate("nobody@x.io", "999999", None).await;
    let no_code = {
        on_pool!(f.db, |pool| sqlx::query("INSERT INTO nets_user (email) VALUES ('quiet@x.io')")
            .execute(pool)
            .await
            .map(|_| ())
            .unwrap());
        f.authenticate("quiet@x.io", CODE, None).await
    };
    for reply in [&known, &unknown, &no_code] {
        assert_eq!((reply.status, &reply.json), (known.status, &known.json));
    }
    known.assert_error(400, "Invalid code for this user and device");
    // And login answers the same for new and existing addresses.
    let new = f.login(json!({"email": "new@x.io"})).await;
    let existing = f.login(json!({"email": "ada@x.io"})).await;
    assert_eq!(new.json, existing.json);
}

#[tokio::test]
async fn a_code_bound_to_a_device_needs_that_device() {
    let f = Fixture::new().await;
    let reply = f.login(json!({"email": "ada@x.io", "device": {"name": "a"}})).await;
    let device = reply.json["extra"]["device_uuid"].as_str().unwrap().to_owned();
    let other = f.login(json!({"email": "bob@x.io", "device": {"name": "b"}})).await;
    let other_device = other.json["extra"]["device_uuid"].as_str().unwrap().to_owned();
    f.authenticate("ada@x.io", CODE, None).await.assert_error(400, "Invalid code for this user and device");
    f.authenticate("ada@x.io", CODE, Some(&other_device))
        .await
        .assert_error(400, "Invalid code for this user and device");
    assert_eq!(f.authenticate("ada@x.io", CODE, Some(&device)).await.status, 200);
}

#[tokio::test]
async fn malformed_uuids_are_400_naming_the_field() {
    let f = Fixture::new().await;
    let reply = f.login(json!({"email": "ada@x.io", "device": {"uuid": "abc"}})).await;
    reply.assert_invalid("uuid", "'abc' is not a valid UUID");
    let reply = f.authenticate("ada@x.io", CODE, Some("not-a-uuid")).await;
    reply.assert_invalid("device_uuid", "'not-a-uuid' is not a valid UUID");
    let (token, _) = f.tokens("ada@x.io").await;
    let reply = f.authed("/logout/", &token, json!({"device_uuid": "zzz"})).await;
    reply.assert_invalid("device_uuid", "'zzz' is not a valid UUID");
}

#[tokio::test]
async fn bad_client_credentials_and_missing_params_are_400() {
    let f = Fixture::new().await;
    sent(&f.login(json!({"email": "ada@x.io"})).await);
    let reply = f
        .post(
            "/authenticate/",
            json!({"email": "ada@x.io", "code": CODE, "client_id": f.client.client_id, "client_secret": "wrong"}),
        )
        .await;
    reply.assert_error(400, "Invalid client_id or client_secret");
    f.post("/authenticate/", json!({"email": "ada@x.io", "code": CODE}))
        .await
        .assert_missing(&["client_id", "client_secret"]);
    // Every missing parameter, in the contract's order (the original listed them all).
    f.post("/authenticate/", json!({})).await.assert_missing(&["email", "code", "client_id", "client_secret"]);
    f.login(json!({})).await.assert_missing(&["email"]);
    // A blank required value is missing, as in the original ("es obligatorio").
    f.login(json!({"email": "  "})).await.assert_missing(&["email"]);
    f.login(json!({"email": "not an email"})).await.assert_invalid("email", "invalid e-mail");
    // Django's validator rules (issue 17, item 8): mail cannot reach `a@b`, so no account.
    for address in ["a@b", "ada@127.0.0.1", "ada@x.c"] {
        f.login(json!({"email": address})).await.assert_invalid("email", "invalid e-mail");
    }
    f.login(json!({"email": "ada@x.io", "device": 5})).await.assert_invalid("device", "must be a JSON object");
    // The code is still usable after those refusals.
    assert_eq!(f.authenticate("ada@x.io", CODE, None).await.status, 200);
}

#[tokio::test]
async fn oversized_and_non_utf8_bodies_are_refused() {
    let f = Fixture::new().await;
    let big = "a".repeat(100 * 1024);
    let reply = f.login(json!({"email": "ada@x.io", "pad": big})).await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    let reply = f
        .server
        .send(
            f.server
                .post("/login/")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(b"email=ada%FF%FE@x.io".to_vec()),
        )
        .await;
    reply.assert_invalid("email", "must be valid UTF-8");
    let reply = f
        .server
        .send(
            f.server.post("/login/").header("content-type", "application/json").body(b"{\"email\":\"\xff\"}".to_vec()),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    let long = format!("{}@x.io", "a".repeat(300));
    assert_eq!(f.login(json!({"email": long})).await.status, 400);
}

#[tokio::test]
async fn username_logins_create_an_account_only_with_a_free_address() {
    let f = Fixture::with_settings(&format!("{DEBUG}\nNETS_CORE_USER_IDENTIFIER = 'username'")).await;
    sent(&f.login(json!({"username": "Ada_L", "email": "Ada@X.io", "is_superuser": true})).await);
    assert_eq!(f.username_row("ada_l").await, None, "nothing is reserved before the code is used");
    let body = json!({"username": "ADA_L", "code": CODE, "client_id": f.client.client_id,
                      "client_secret": f.client.client_secret.as_deref().unwrap()});
    assert_eq!(f.post("/authenticate/", body).await.status, 200);
    assert_eq!(f.username_row("ada_l").await, Some(("Ada_L".into(), "ada@x.io".into(), false)));

    // Same answer, nothing created: no address, or an address another account has.
    let no_address = f.login(json!({"username": "bob"})).await;
    let taken = f.login(json!({"username": "eve", "email": "ADA@x.io"})).await;
    let existing = f.login(json!({"username": "ada_l", "email": "evil@x.io"})).await;
    for reply in [&no_address, &taken, &existing] {
        sent(reply);
        assert_eq!(reply.json, existing.json);
    }
    assert_eq!((f.username_row("bob").await, f.username_row("eve").await), (None, None));
    assert_eq!(f.username_row("ada_l").await, Some(("Ada_L".into(), "ada@x.io".into(), false)), "address not replaced");

    f.login(json!({"username": "ada l"}))
        .await
        .assert_invalid("username", "letters, digits and @.+-_ only, at most 150");
    f.login(json!({"username": "x".repeat(151)}))
        .await
        .assert_invalid("username", "letters, digits and @.+-_ only, at most 150");
    f.login(json!({"username": "zoe", "email": "not-an-address"})).await.assert_invalid("email", "invalid e-mail");
    f.login(json!({"email": "ada@x.io"})).await.assert_missing(&["username"]);
}

#[tokio::test]
async fn login_answers_alike_whether_or_not_the_account_exists() {
    let f = Fixture::with_settings("SECRET_KEY = 'accounts test secret-xxxxxxxxxxx'\nDEBUG = false").await;
    on_pool!(f.db, |pool| sqlx::query("INSERT INTO nets_user (email, is_active) VALUES ('gone@x.io', FALSE)")
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
    on_pool!(f.db, |pool| sqlx::query("INSERT INTO nets_user (email) VALUES ('known@x.io')")
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
    sent(&f.login(json!({"email": "known@x.io"})).await);
    let device = json!({"name": "phone", "firebase_token": "fcm-1"});
    let mut shapes = Vec::new();
    for email in ["known@x.io", "unknown@x.io", "gone@x.io"] {
        let reply = f.login(json!({"email": email, "device": device})).await;
        sent(&reply);
        let uuid = reply.json["extra"]["device_uuid"].as_str().unwrap_or_default().to_owned();
        assert!(uuid::Uuid::parse_str(&uuid).is_ok(), "{email}: {}", reply.text());
        shapes.push(reply.json.as_object().unwrap().keys().cloned().collect::<Vec<_>>());
        // A device uuid that is not the account's is refused alike.
        let foreign = json!({"email": email, "device": {"uuid": uuid::Uuid::new_v4().to_string()}});
        f.login(foreign).await.assert_error(400, "Invalid device uuid");
    }
    assert!(shapes.windows(2).all(|w| w[0] == w[1]), "{shapes:?}");
    // The writes happen after the answer: the known account gets its device and code;
    // unknown@x.io gets a pending code (its device is kept with it) and no account until
    // the code is used. Three codes: known@x.io's two logins and unknown@x.io's one (the
    // last write of each login, so the test does not end with one still in flight).
    let (mut stored, mut codes) = (0, 0);
    for _ in 0..250 {
        stored = f.count("SELECT count(*) FROM nets_user_device WHERE firebase_token = 'fcm-1'").await;
        codes = f.count("SELECT count(*) FROM nets_verification_code").await;
        if (stored, codes) == (1, 3) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(stored, 1, "known@x.io has the device; unknown@x.io no account yet; the inactive account none");
    assert_eq!(codes, 3);
    assert_eq!(f.count("SELECT count(*) FROM nets_user WHERE email = 'unknown@x.io'").await, 0);
    assert_eq!(
        f.count("SELECT count(*) FROM nets_user_device d JOIN nets_user u ON u.id = d.user_id WHERE NOT u.is_active")
            .await,
        0
    );
}

#[tokio::test]
async fn rate_limits_are_settings() {
    let f = Fixture::with_settings(&format!(
        "{DEBUG}\nNETS_CORE_LOGIN_CODES_PER_IDENTIFIER = 2\nNETS_CORE_LOGIN_REQUESTS_PER_IP = 0"
    ))
    .await;
    sent(&f.login(json!({"email": "ada@x.io"})).await);
    sent(&f.login(json!({"email": "ada@x.io"})).await);
    assert_eq!(f.login(json!({"email": "ada@x.io"})).await.status, 429);
    // No per-address limit: more than the default 30 logins from one client pass.
    for i in 0..35 {
        sent(&f.login(json!({"email": format!("user{i}@x.io")})).await);
    }
}

#[tokio::test]
async fn logins_are_rate_limited_per_identifier() {
    let f = Fixture::new().await;
    for _ in 0..5 {
        sent(&f.login(json!({"email": "ada@x.io"})).await);
    }
    let reply = f.login(json!({"email": "ADA@x.io"})).await;
    assert_eq!(reply.status, 429, "{}", reply.text());
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=600).contains(&retry));
    // Another identifier is not affected.
    sent(&f.login(json!({"email": "bob@x.io"})).await);
}

#[tokio::test]
async fn logout_revokes_the_access_and_refresh_tokens_and_deletes_the_device() {
    let f = Fixture::new().await;
    let reply = f.login(json!({"email": "ada@x.io", "device": {"name": "a"}})).await;
    let device = reply.json["extra"]["device_uuid"].as_str().unwrap().to_owned();
    let reply = f.authenticate("ada@x.io", CODE, Some(&device)).await;
    let access = reply.data()["access_token"].as_str().unwrap().to_owned();
    let refresh = reply.data()["refresh_token"].as_str().unwrap().to_owned();

    let reply = f.authed("/logout/", &access, json!({"device_uuid": device})).await;
    reply.assert_data(json!("Logged out successfully"));
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user_device").await, 0);
    let after = f.server.send(f.server.get("/getProfile/").bearer_auth(&access)).await;
    assert_eq!(after.status, 401);
    let secret = f.client.client_secret.clone().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", f.client.client_id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let refreshed = f.server.send(f.server.post("/o/token/").form(&form)).await;
    assert_eq!(refreshed.status, 400, "{}", refreshed.text());
    assert_eq!(refreshed.json["error"], "invalid_grant");
    // Without a token: 401.
    assert_eq!(f.post("/logout/", json!({})).await.status, 401);
}

#[tokio::test]
async fn refresh_reuse_revokes_the_login() {
    let f = Fixture::new().await;
    let (_, refresh) = f.tokens("ada@x.io").await;
    let secret = f.client.client_secret.clone().unwrap();
    let form = |token: &str| {
        vec![
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), token.to_owned()),
            ("client_id".to_owned(), f.client.client_id.clone()),
            ("client_secret".to_owned(), secret.clone()),
        ]
    };
    let first = f.server.send(f.server.post("/o/token/").form(&form(&refresh))).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let new_access = first.json["access_token"].as_str().unwrap().to_owned();
    let reuse = f.server.send(f.server.post("/o/token/").form(&form(&refresh))).await;
    assert_eq!(reuse.status, 400);
    let after = f.server.send(f.server.get("/getProfile/").bearer_auth(&new_access)).await;
    assert_eq!(after.status, 401, "reuse revokes the whole family");
}

#[tokio::test]
async fn get_profile_limits_fields_to_the_visible_ones() {
    let f = Fixture::new().await;
    let (token, _) = f.tokens("ada@x.io").await;
    let reply = f.server.send(f.server.get("/getProfile/?fields=id,email").bearer_auth(&token)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let keys: Vec<&String> = reply.data().as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 2);
    let reply = f.authed("/getProfile/", &token, json!({"fields": ["first_name"]})).await;
    assert_eq!(reply.data(), &json!({"first_name": ""}));
    let reply = f.authed("/getProfile/", &token, json!({"fields": "[\"email\"]"})).await;
    assert_eq!(reply.data(), &json!({"email": "ada@x.io"}));
    let reply = f.authed("/getProfile/", &token, json!({"fields": ["is_superuser"]})).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    // `fields=__all__` (issue 17 item 4): every visible field, as without `fields`.
    let all = f.server.send(f.server.get("/getProfile/?fields=__all__").bearer_auth(&token)).await;
    let default = f.server.send(f.server.get("/getProfile/").bearer_auth(&token)).await;
    assert_eq!(all.status, 200, "{}", all.text());
    assert_eq!(all.data(), default.data());
    assert!(all.data().get("email").is_some() && all.data().get("is_superuser").is_none(), "{}", all.text());
    let reply = f.authed("/getProfile/", &token, json!({"fields": "id FROM nets_access_token --"})).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(f.server.send(f.server.get("/getProfile/")).await.status, 401);
}

#[tokio::test]
async fn update_writes_updatable_fields_and_refuses_prohibited_ones() {
    let f = Fixture::with_settings(&format!("{DEBUG}\nNETS_CORE_USER_PROHIBITED_FIELDS = ['last_*']")).await;
    let (token, _) = f.tokens("ada@x.io").await;
    let reply = f.authed("/update/", &token, json!({"first_name": "Ada"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.data()["first_name"], "Ada");
    let history: String = on_pool!(f.db, |pool| sqlx::query_scalar(
        "SELECT CAST(updated_fields AS TEXT) FROM nets_user WHERE email = 'ada@x.io'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert!(history.contains("first_name") && history.contains("Ada"), "{history}");

    // Each a change: a value the field does not hold.
    let changes = [
        ("is_superuser", "true"),
        ("is_staff", "true"),
        ("password", "x"),
        ("id", "987654"),
        ("email_verified", "false"),
        ("last_name", "Lovelace"),
    ];
    for (field, value) in changes {
        let reply = f.authed("/update/", &token, json!({field: value, "first_name": "Eve"})).await;
        assert_eq!(reply.status, 400, "{field}: {}", reply.text());
        assert!(reply.json["message"].as_str().unwrap().contains(field), "{}", reply.text());
    }
    let (_, superuser, staff, _) = f.user_flags("ada@x.io").await;
    assert!(!superuser && !staff);
    let profile = f.server.send(f.server.get("/getProfile/").bearer_auth(&token)).await;
    assert_eq!(profile.data()["first_name"], "Ada", "nothing written by a refused update");
    // Not updatable (but not prohibited): 400 too.
    let reply = f.authed("/update/", &token, json!({"email": "other@x.io"})).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
}

/// Issue 17, item 3: a client posting its whole cached profile back keeps its change.
#[tokio::test]
async fn update_ignores_unknown_keys_and_read_only_fields_sent_unchanged() {
    let f = Fixture::new().await;
    let (token, _) = f.tokens("alice@example.com").await;
    let id = f.user_flags("alice@example.com").await.0;
    let body = json!({"first_name":"Ali","email":"alice@example.com","favourite_colour":"blue"});
    let reply = f.authed("/update/", &token, body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.data()["first_name"], "Ali");
    assert_eq!(reply.json["extra"]["ignored"], json!(["email", "favourite_colour"]), "{}", reply.text());
    // The whole profile, as /getProfile/ gave it (values JSON-encoded in strings, as
    // mobile clients send them), with one real change.
    let profile = f.server.send(f.server.get("/getProfile/").bearer_auth(&token)).await;
    let mut cached = profile.data().as_object().unwrap().clone();
    cached.insert("last_name".into(), json!("Liddell"));
    cached.insert("id".into(), json!(id.to_string()));
    cached.insert("email_verified".into(), json!("true"));
    let reply = f.authed("/update/", &token, Value::Object(cached)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!((&reply.data()["first_name"], &reply.data()["last_name"]), (&json!("Ali"), &json!("Liddell")));
    let ignored = reply.json["extra"]["ignored"].as_array().unwrap();
    assert!(ignored.contains(&json!("id")) && ignored.contains(&json!("last_login")), "{}", reply.text());
    // Nothing ignored: the original's answer exactly.
    let reply = f.authed("/update/", &token, json!({"first_name": "Alice"})).await;
    assert_eq!(reply.json.as_object().unwrap().keys().collect::<Vec<_>>(), ["res", "data"], "{}", reply.text());

    // A genuine change of a read-only field is still refused, and nothing is written.
    for body in [
        json!({"first_name": "Eve", "email": "mallory@example.com"}),
        json!({"first_name": "Eve", "is_superuser": false}),
        json!({"first_name": "Eve", "id": (id + 1).to_string()}),
    ] {
        let reply = f.authed("/update/", &token, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text());
    }
    let profile = f.server.send(f.server.get("/getProfile/").bearer_auth(&token)).await;
    assert_eq!(profile.data()["first_name"], "Alice", "nothing written by a refused update");
    assert_eq!(profile.data()["email"], "alice@example.com");
}

#[tokio::test]
async fn outside_debug_the_debug_code_does_not_work_and_testers_need_configuring() {
    // Outside DEBUG, testers are exact addresses with a code of 8 digits or more (issue 11).
    let settings = "SECRET_KEY = 'accounts test secret-xxxxxxxxxxx'\nDEBUG = false\n\
                    NETS_CORE_TESTERS_EMAILS = ['Reviewer@Store.example']\nNETS_CORE_TESTERS_VERIFICATION_CODE = '04756312'";
    let f = Fixture::with_settings(settings).await;
    sent(&f.login(json!({"email": "ada@x.io"})).await);
    f.authenticate("ada@x.io", CODE, None).await.assert_error(400, "Invalid code for this user and device");
    f.authenticate("ada@x.io", "04756312", None).await.assert_error(400, "Invalid code for this user and device");
    // The original's built-in tester does not exist.
    sent(&f.login(json!({"email": "google_tester1@x.io"})).await);
    f.authenticate("google_tester1@x.io", "789654", None)
        .await
        .assert_error(400, "Invalid code for this user and device");
    // A configured tester (an existing account: the tester path creates none), with the
    // leading zero kept.
    on_pool!(f.db, |pool| sqlx::query("INSERT INTO nets_user (email) VALUES ('reviewer@store.example')")
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
    sent(&f.login(json!({"email": "reviewer@store.example"})).await);
    assert_eq!(f.authenticate("reviewer@store.example", "04756312", None).await.status, 200);
}

#[tokio::test]
async fn delete_with_a_token_and_a_fresh_code_removes_the_account_and_its_tokens() {
    let f = Fixture::new().await;
    sent(&f.login(json!({"email": "ada@x.io", "device": {"name": "a"}})).await);
    let (token, _) = {
        // The device-bound code of that login is replaced by this one (no device).
        f.tokens("ada@x.io").await
    };
    f.authed("/delete/", &token, json!({})).await.assert_missing(&["sure", "code"]);
    f.authed("/delete/", &token, json!({"code": CODE})).await.assert_missing(&["sure"]);
    f.authed("/delete/", &token, json!({"sure": "false", "code": CODE})).await.assert_error(400, "Are you sure?");
    f.authed("/delete/", &token, json!({"sure": true, "code": ""})).await.assert_missing(&["code"]);
    // The login's code was used: a fresh one is needed.
    f.authed("/delete/", &token, json!({"sure": true, "code": CODE}))
        .await
        .assert_error(400, "Invalid code for this user and device");
    sent(&f.login(json!({"email": "ada@x.io"})).await);
    let reply = f.authed("/delete/", &token, json!({"sure": "true", "code": CODE})).await;
    reply.assert_data(json!("Account deleted successfully"));
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user").await, 0);
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user_device").await, 0);
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_verification_code").await, 0);
    let after = f.server.send(f.server.get("/getProfile/").bearer_auth(&token)).await;
    assert_eq!(after.status, 401);
}

#[tokio::test]
async fn the_delete_page_is_served_and_its_flow_works_without_a_token() {
    let f = Fixture::new().await;
    let page = f.server.send(f.server.get("/requestDelete/")).await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text().contains("Send Code") && page.text().contains("post(\"../delete/\""));
    // An address without an account: its code creates nothing and deletes nothing.
    sent(&f.login(json!({"email": "bob@x.io"})).await);
    f.post("/delete/", json!({"email": "bob@x.io", "code": CODE, "sure": true}))
        .await
        .assert_error(400, "Invalid code for this user and device");
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user").await, 0);
    f.tokens("bob@x.io").await;
    sent(&f.login(json!({"email": "bob@x.io"})).await);
    // Someone else's address with a wrong code deletes nothing.
    f.post("/delete/", json!({"email": "bob@x.io", "code": "111111", "sure": true}))
        .await
        .assert_error(400, "Invalid code for this user and device");
    f.post("/delete/", json!({"email": "bob@x.io", "code": CODE, "sure": true}))
        .await
        .assert_data(json!("Account deleted successfully"));
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_user").await, 0);
}

#[tokio::test]
async fn the_delete_page_template_can_be_replaced() {
    let dir = std::env::temp_dir().join(format!("nets-delete-page-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("page.html");
    std::fs::write(&path, "<h1>{{ title }} of ACME</h1>").unwrap();
    let toml = format!("{DEBUG}\nNETS_CORE_DELETE_ACCOUNT_TEMPLATE = '{}'", path.display());
    let f = Fixture::with_settings(&toml).await;
    let page = f.server.send(f.server.get("/requestDelete/")).await;
    assert_eq!(page.text(), "<h1>Delete Account of ACME</h1>");
}

#[tokio::test]
async fn logins_and_code_checks_are_rate_limited_per_client_address() {
    let f = Fixture::new().await;
    for i in 0..30 {
        sent(&f.login(json!({"email": format!("user{i}@x.io")})).await);
    }
    let reply = f.login(json!({"email": "one-more@x.io"})).await;
    assert_eq!(reply.status, 429, "{}", reply.text());
    assert!(reply.header("retry-after").is_some());
    // Different identifiers: each account has its own (smaller) cap of checks too.
    for i in 0..30 {
        assert_eq!(f.authenticate(&format!("nobody{i}@x.io"), "111111", None).await.status, 400);
    }
    let reply = f.authenticate("user1@x.io", CODE, None).await;
    assert_eq!(reply.status, 429, "guessing from one address is capped: {}", reply.text());
}

// The account endpoints run the common pipeline (issue 12; issue 17 item 1).

#[tokio::test]
async fn a_wrong_method_on_an_account_route_is_the_json_405_with_allow_in_order() {
    let f = Fixture::new().await;
    let s = &f.server;
    for (method, path, allow) in [
        (reqwest::Method::GET, "/login/", "POST"),
        (reqwest::Method::PUT, "/getProfile/", "GET, POST, HEAD"),
        (reqwest::Method::DELETE, "/update", "POST"),
        (reqwest::Method::PATCH, "/requestDelete/", "GET, POST, HEAD"),
    ] {
        let reply = s.send(s.request(method.clone(), path)).await;
        reply.assert_error(405, "method not allowed");
        assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
    }
}

#[tokio::test]
async fn an_account_body_without_a_content_type_is_refused_like_everywhere() {
    let f = Fixture::new().await;
    let s = &f.server;
    // Before, /login/ read such a body as a form; every other endpoint answers 415.
    let reply = s.send(s.post("/login/").body("email=ada@x.io")).await;
    assert_eq!(reply.status, 415, "{}", reply.text());
    assert_eq!(f.count("SELECT COUNT(*) FROM nets_verification_code").await, 0);
}

#[tokio::test]
async fn any_token_the_apps_authenticator_accepts_works_on_the_account_routes() {
    use nets_runtime::accounts::Accounts;
    use nets_runtime::auth::{AuthUser, StaticBearer};
    use nets_runtime::cache::Cache;
    use nets_runtime::oauth::OAuth;
    use nets_runtime::prelude::*;
    use nets_runtime::users::UserTable;

    let db = nets_tests::db::test_db().await;
    nets_tests::db::exec(&db.db, "INSERT INTO nets_user (id, email, first_name) VALUES (41, 'kim@x.io', 'Kim')").await;
    let settings = nets_tests::settings(DEBUG);
    let oauth = OAuth::from_settings(&settings, &db.db).await.unwrap();
    let users = UserTable::load(&db.db, &settings).await.unwrap();
    let accounts = Accounts::new(oauth.clone(), users, Cache::memory(100), &settings).unwrap();
    // The app's own authenticator: installing OAuth keeps it.
    let own = StaticBearer::new().token("service-token", AuthUser::new(41, "kim@x.io"));
    let app = App::builder(settings)
        .database(db.db.clone())
        .authenticator(own)
        .install(oauth)
        .install(accounts)
        .build()
        .expect("app");
    let s = nets_tests::TestServer::start(app.router()).await;
    let reply = s.send(s.get("/getProfile/?fields=first_name").bearer_auth("service-token")).await;
    reply.assert_data(json!({"first_name": "Kim"}));
    let reply = s.send(s.get("/getProfile/").bearer_auth("not-a-token")).await;
    assert_eq!(reply.status, 401, "{}", reply.text());
}

/// Issue 17, item 12: `/login/` documents its e-mail identifier as one.
#[tokio::test]
async fn openapi_describes_the_login_address_as_an_email() {
    let f = Fixture::new().await;
    let doc = f.server.send(f.server.get("/openapi.json")).await.json;
    let body = nets_tests::body_schema(&doc, "/login/", "post");
    assert_eq!(body["properties"]["email"]["format"], "email", "{body}");
    assert_eq!(body["required"], json!(["email"]));
}
