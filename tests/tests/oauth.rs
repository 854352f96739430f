//! OAuth2 applications and tokens, `POST /o/token/` (refresh grant), `POST
//! /o/revoke_token/` and bearer authentication, over real HTTP, on SQLite by default and
//! on PostgreSQL when `NETS_TEST_DATABASE_URL` is set.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use nets_runtime::db::Db;
use nets_runtime::oauth::{ClientType, ImportError, NewApplication, OAuth, Tokens};
use nets_runtime::prelude::*;
use nets_tests::db::{TestDb, test_db};
use nets_tests::{Reply, TestServer};
use serde_json::{Value, json};

macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match &$db.db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

/// Who the bearer token belongs to.
#[request_handler(path = "me/", method = GET)]
async fn me(ctx: Ctx) -> ApiResult<Value> {
    let user = ctx.require_user()?;
    Ok(json!({"id": user.id, "identifier": user.identifier, "superuser": user.is_superuser}))
}

/// Public: a bad token is treated as no token.
#[request_handler(path = "open/", method = GET, public)]
async fn open(ctx: Ctx) -> ApiResult<Option<i64>> {
    Ok(ctx.user().map(|u| u.id))
}

const SETTINGS: &str = "SECRET_KEY = 'oauth test secret-xxxxxxxxxxxxxx'";

struct Fixture {
    server: TestServer,
    oauth: OAuth,
    db: TestDb,
    app: NewApplication,
    user: i64,
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_settings(SETTINGS).await
    }

    async fn with_settings(toml: &str) -> Fixture {
        let db = test_db().await;
        let settings = nets_tests::settings(toml);
        let oauth = OAuth::from_settings(&settings, &db.db).await.expect("SECRET_KEY is set");
        let app = App::builder(settings).database(db.db.clone()).authenticator(oauth.bearer());
        let server = TestServer::start(
            app.install(oauth.clone()).routes(build_urlpatterns!().unwrap()).build().expect("app").router(),
        )
        .await;
        let client = oauth.create_application("test app", ClientType::Confidential).await.unwrap();
        let user = create_user(&db, "ada@example.com").await;
        Fixture { server, oauth, db, app: client, user }
    }

    fn secret(&self) -> &str {
        self.app.client_secret.as_deref().expect("confidential")
    }

    async fn login(&self) -> Tokens {
        self.oauth.generate_tokens(self.user, self.app.id, None).await.unwrap()
    }

    async fn me(&self, token: &str) -> Reply {
        self.server.send(self.server.get("/me/").bearer_auth(token)).await
    }

    /// `POST /o/token/` with body client credentials and these extra fields.
    async fn token(&self, fields: &[(&str, &str)]) -> Reply {
        let mut form = vec![("client_id", self.app.client_id.as_str()), ("client_secret", self.secret())];
        form.extend_from_slice(fields);
        self.server.send(self.server.post("/o/token/").form(&form)).await
    }

    async fn refresh(&self, refresh_token: &str) -> Reply {
        self.token(&[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
    }

    async fn revoke(&self, token: &str) -> Reply {
        let form = [("client_id", self.app.client_id.as_str()), ("client_secret", self.secret()), ("token", token)];
        self.server.send(self.server.post("/o/revoke_token/").form(&form)).await
    }
}

async fn create_user(db: &TestDb, email: &str) -> i64 {
    on_pool!(db, |pool| sqlx::query_scalar("INSERT INTO nets_user (email) VALUES ($1) RETURNING id")
        .bind(email)
        .fetch_one(pool)
        .await
        .unwrap())
}

async fn execute(db: &TestDb, sql: &'static str, id: i64) {
    on_pool!(db, |pool| {
        sqlx::query(sql).bind(id).execute(pool).await.unwrap();
    });
}

/// `{"error": code, ..}` with `status`, a description, and `Cache-Control: no-store`.
#[track_caller]
fn assert_oauth_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!((reply.status, reply.json["error"].as_str()), (status, Some(code)), "{}", reply.text());
    assert!(reply.json["error_description"].as_str().is_some_and(|d| !d.is_empty()), "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert!(reply.header("content-type").unwrap_or("").starts_with("application/json"));
    if code == "invalid_client" {
        assert_eq!(reply.header("www-authenticate"), Some("Basic realm=\"oauth\""));
    }
}

/// 401 with the RFC 6750 `invalid_token` challenge.
#[track_caller]
fn assert_invalid_token(reply: &Reply) {
    reply.assert_error(401, "authentication required");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer error=\"invalid_token\""));
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn applications_keep_only_a_digest_of_their_secret() {
    let f = Fixture::new().await;
    assert_eq!(f.app.client_id.len(), 40);
    assert!(is_hex64(f.secret()));
    let (digest, kind): (Option<String>, String) = on_pool!(f.db, |pool| sqlx::query_as(
        "SELECT client_secret_digest, client_type FROM nets_oauth_application WHERE client_id = $1"
    )
    .bind(&f.app.client_id)
    .fetch_one(pool)
    .await
    .unwrap());
    let digest = digest.expect("confidential clients have a digest");
    assert_ne!(digest, f.secret());
    assert!(!digest.contains(f.secret()));
    assert_eq!(kind, "confidential");
    // The creation answer is the one JSON line the CLI prints.
    let printed: Value = serde_json::to_value(&f.app).unwrap();
    assert_eq!(printed, json!({"client_id": f.app.client_id, "client_secret": f.secret()}));

    let public = f.oauth.create_application("mobile", ClientType::Public).await.unwrap();
    assert_eq!(public.client_secret, None);
    assert_eq!(serde_json::to_value(&public).unwrap(), json!({"client_id": public.client_id}));
    let found = f.oauth.application(&public.client_id).await.unwrap().expect("registered");
    assert_eq!((found.name.as_str(), found.client_type), ("mobile", ClientType::Public));
    assert_eq!(f.oauth.application("nope").await.unwrap(), None);
    assert_ne!(public.client_id, f.app.client_id);
}

#[tokio::test]
async fn tokens_are_random_and_stored_as_digests_only() {
    let f = Fixture::new().await;
    let before = Utc::now();
    let tokens = f.login().await;
    assert!(is_hex64(&tokens.access_token) && is_hex64(&tokens.refresh_token));
    assert_ne!(tokens.access_token, tokens.refresh_token);
    let lifetime = tokens.token_expire - before;
    assert!((3599..=3601).contains(&lifetime.num_seconds()), "default ACCESS_TOKEN_EXPIRE_SECONDS: {lifetime}");
    // Wire form of the original: ISO 8601, milliseconds, `Z`.
    let wire = serde_json::to_value(&tokens).unwrap();
    let expire = wire["token_expire"].as_str().unwrap();
    assert!(expire.ends_with('Z') && expire.len() == 24, "{expire}");

    let stored: Vec<String> = on_pool!(f.db, |pool| sqlx::query_scalar(
        "SELECT token_digest FROM nets_access_token UNION ALL SELECT token_digest FROM nets_refresh_token"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(stored.len(), 2);
    for digest in &stored {
        assert!(is_hex64(digest));
        assert!(*digest != tokens.access_token && *digest != tokens.refresh_token);
    }
    assert!(stored.contains(&f.oauth.token_digest(&tokens.access_token)));

    // An explicit expiry is honoured.
    let at = Utc::now() + chrono::Duration::minutes(5);
    let short = f.oauth.generate_tokens(f.user, f.app.id, Some(at)).await.unwrap();
    assert!((short.token_expire - at).num_milliseconds().abs() <= 1);
    let again = f.login().await;
    assert_ne!(again.access_token, tokens.access_token, "every login gets new tokens");
}

#[tokio::test]
async fn bearer_tokens_authenticate_their_user() {
    let f = Fixture::new().await;
    let tokens = f.login().await;
    f.me(&tokens.access_token)
        .await
        .assert_data(json!({"id": f.user, "identifier": "ada@example.com", "superuser": false}));
    let open = f.server.send(f.server.get("/open/").bearer_auth(&tokens.access_token)).await;
    open.assert_data(json!(f.user));
    // A superuser's token carries the flag.
    let root = create_user(&f.db, "root@example.com").await;
    execute(&f.db, "UPDATE nets_user SET is_superuser = TRUE WHERE id = $1", root).await;
    let root_tokens = f.oauth.generate_tokens(root, f.app.id, None).await.unwrap();
    assert_eq!(f.me(&root_tokens.access_token).await.data()["superuser"], json!(true));
    // Tokens are per user.
    assert_eq!(f.oauth.user_for_access_token(&root_tokens.access_token).await.unwrap().unwrap().id, root);
}

#[tokio::test]
async fn bearer_failures_answer_401_invalid_token() {
    let f = Fixture::new().await;

    // Missing: anonymous, so a private endpoint asks for credentials (no error code).
    let missing = f.server.send(f.server.get("/me/")).await;
    missing.assert_error(401, "authentication required");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    f.server.send(f.server.get("/open/")).await.assert_data(Value::Null);

    // Unknown, malformed, and a refresh token used as an access token.
    let tokens = f.login().await;
    for bad in
        ["0".repeat(64).as_str(), "not-a-token", &tokens.refresh_token, &tokens.access_token.to_uppercase()[..63]]
    {
        assert_invalid_token(&f.me(bad).await);
        // Public endpoints treat a bad token as no token.
        f.server.send(f.server.get("/open/").bearer_auth(bad)).await.assert_data(Value::Null);
    }
    // The header only: a token in the query string is not read.
    let query = f.server.send(f.server.get(&format!("/me/?access_token={}", tokens.access_token))).await;
    query.assert_error(401, "authentication required");

    // Expired.
    let past = Utc::now() - chrono::Duration::seconds(1);
    let expired = f.oauth.generate_tokens(f.user, f.app.id, Some(past)).await.unwrap();
    assert_invalid_token(&f.me(&expired.access_token).await);

    // Revoked.
    f.me(&tokens.access_token).await.data();
    assert!(f.oauth.revoke_token(&tokens.access_token).await.unwrap());
    assert_invalid_token(&f.me(&tokens.access_token).await);
    assert!(!f.oauth.revoke_token("unknown").await.unwrap());

    // Inactive user: at once once the edit is announced (SQL behind nets' back is seen
    // by the token cache, on by default, after `invalidate_tokens`), and back when
    // reactivated.
    let live = f.login().await;
    f.me(&live.access_token).await.data();
    execute(&f.db, "UPDATE nets_user SET is_active = FALSE WHERE id = $1", f.user).await;
    f.oauth.invalidate_tokens().await.unwrap();
    assert_invalid_token(&f.me(&live.access_token).await);
    execute(&f.db, "UPDATE nets_user SET is_active = TRUE WHERE id = $1", f.user).await;
    f.me(&live.access_token).await.data();

    // Deleted user.
    execute(&f.db, "DELETE FROM nets_user WHERE id = $1", f.user).await;
    f.oauth.invalidate_tokens().await.unwrap();
    assert_invalid_token(&f.me(&live.access_token).await);
}

#[tokio::test]
async fn revoking_all_of_a_users_tokens() {
    let f = Fixture::new().await;
    let (a, b) = (f.login().await, f.login().await);
    let other = create_user(&f.db, "bob@example.com").await;
    let bob = f.oauth.generate_tokens(other, f.app.id, None).await.unwrap();
    f.oauth.revoke_user_tokens(f.user).await.unwrap();
    assert_invalid_token(&f.me(&a.access_token).await);
    assert_invalid_token(&f.me(&b.access_token).await);
    assert_oauth_error(&f.refresh(&a.refresh_token).await, 400, "invalid_grant");
    f.me(&bob.access_token).await.data();
}

#[tokio::test]
async fn refresh_rotates_the_pair() {
    let f = Fixture::new().await;
    let first = f.login().await;
    let reply = f.refresh(&first.refresh_token).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    let body = &reply.json;
    assert_eq!(body["token_type"], "Bearer");
    let expires_in = body["expires_in"].as_i64().unwrap();
    assert!((3598..=3600).contains(&expires_in), "{expires_in}");
    assert!(body["token_expire"].as_str().is_some_and(|t| t.ends_with('Z')));
    let (access, refresh) = (body["access_token"].as_str().unwrap(), body["refresh_token"].as_str().unwrap());
    assert!(is_hex64(access) && is_hex64(refresh));
    assert_ne!(access, first.access_token);
    assert_ne!(refresh, first.refresh_token);

    // The new access token works; the old one was retired with its refresh token.
    f.me(access).await.data();
    assert_invalid_token(&f.me(&first.access_token).await);

    // HTTP Basic client authentication works as well, and the chain goes on.
    let basic = f.server.post("/o/token").basic_auth(&f.app.client_id, Some(f.secret()));
    let reply = f.server.send(basic.form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    f.me(reply.json["access_token"].as_str().unwrap()).await.data();

    // Same family throughout.
    let families: i64 =
        on_pool!(f.db, |pool| sqlx::query_scalar("SELECT COUNT(DISTINCT family) FROM nets_refresh_token")
            .fetch_one(pool)
            .await
            .unwrap());
    assert_eq!(families, 1);
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_whole_family() {
    let f = Fixture::new().await;
    let first = f.login().await;
    let other_login = f.login().await;
    let reply = f.refresh(&first.refresh_token).await;
    let (access2, refresh2) = (
        reply.json["access_token"].as_str().unwrap().to_owned(),
        reply.json["refresh_token"].as_str().unwrap().to_owned(),
    );
    f.me(&access2).await.data();

    // The old refresh token comes back (a thief, or the client after the thief).
    let reuse = f.refresh(&first.refresh_token).await;
    assert_oauth_error(&reuse, 400, "invalid_grant");
    assert!(reuse.json["error_description"].as_str().unwrap().contains("already used"));
    // Everything of that login is dead...
    assert_invalid_token(&f.me(&access2).await);
    assert_oauth_error(&f.refresh(&refresh2).await, 400, "invalid_grant");
    // ...and nothing of another login.
    f.me(&other_login.access_token).await.data();
    assert_eq!(f.refresh(&other_login.refresh_token).await.status, 200);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_are_treated_as_reuse() {
    let f = Fixture::new().await;
    let tokens = f.login().await;
    let attempts = (0..6).map(|_| f.refresh(&tokens.refresh_token));
    let replies = join_all(attempts).await;
    let wins: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert!(wins.len() <= 1, "{:?}", replies.iter().map(|r| r.text()).collect::<Vec<_>>());
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_oauth_error(r, 400, "invalid_grant");
    }
    // Whoever won, the others revealed a second use: the family is revoked.
    for win in wins {
        assert_invalid_token(&f.me(win.json["access_token"].as_str().unwrap()).await);
    }
    assert_invalid_token(&f.me(&tokens.access_token).await);
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc_6749() {
    let f = Fixture::new().await;
    let tokens = f.login().await;
    let rt = tokens.refresh_token.as_str();

    // Malformed requests.
    let json_body = f.server.post("/o/token/").json(&json!({"grant_type": "refresh_token", "refresh_token": rt}));
    assert_oauth_error(&f.server.send(json_body).await, 400, "invalid_request");
    assert_oauth_error(&f.token(&[("refresh_token", rt)]).await, 400, "invalid_request");
    assert_oauth_error(&f.token(&[("grant_type", ""), ("refresh_token", rt)]).await, 400, "invalid_request");
    assert_oauth_error(&f.token(&[("grant_type", "refresh_token")]).await, 400, "invalid_request");
    let repeated = f.token(&[("grant_type", "refresh_token"), ("refresh_token", rt), ("refresh_token", rt)]).await;
    assert_oauth_error(&repeated, 400, "invalid_request");
    assert!(repeated.json["error_description"].as_str().unwrap().contains("repeated"));
    for grant in ["password", "authorization_code", "client_credentials", "REFRESH_TOKEN"] {
        let reply = f.token(&[("grant_type", grant), ("refresh_token", rt)]).await;
        assert_oauth_error(&reply, 400, "unsupported_grant_type");
    }
    let scoped = f.token(&[("grant_type", "refresh_token"), ("refresh_token", rt), ("scope", "admin")]).await;
    assert_oauth_error(&scoped, 400, "invalid_scope");

    // Client authentication.
    let grant = [("grant_type", "refresh_token"), ("refresh_token", rt)];
    let send = |form: Vec<(&'static str, String)>| f.server.send(f.server.post("/o/token/").form(&form));
    let with = |extra: &[(&'static str, &str)]| {
        let mut form: Vec<(&'static str, String)> = grant.iter().map(|(k, v)| (*k, v.to_string())).collect();
        form.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        form
    };
    assert_oauth_error(&send(with(&[])).await, 401, "invalid_client");
    assert_oauth_error(&send(with(&[("client_id", "unknown"), ("client_secret", "x")])).await, 401, "invalid_client");
    let wrong = "0".repeat(64);
    assert_oauth_error(
        &send(with(&[("client_id", &f.app.client_id), ("client_secret", &wrong)])).await,
        401,
        "invalid_client",
    );
    assert_oauth_error(&send(with(&[("client_id", &f.app.client_id)])).await, 401, "invalid_client");
    let basic_and_body = f
        .server
        .post("/o/token/")
        .basic_auth(&f.app.client_id, Some(f.secret()))
        .form(&with(&[("client_secret", f.secret())]));
    assert_oauth_error(&f.server.send(basic_and_body).await, 400, "invalid_request");
    let bad_basic = f.server.post("/o/token/").header("authorization", "Basic !!!not base64").form(&with(&[]));
    assert_oauth_error(&f.server.send(bad_basic).await, 401, "invalid_client");
    let wrong_basic = f.server.post("/o/token/").basic_auth(&f.app.client_id, Some(&wrong)).form(&with(&[]));
    assert_oauth_error(&f.server.send(wrong_basic).await, 401, "invalid_client");

    // Grants that are not (or no longer) valid.
    assert_oauth_error(&f.refresh(&"f".repeat(64)).await, 400, "invalid_grant");
    assert_oauth_error(&f.refresh("short").await, 400, "invalid_grant");
    assert_oauth_error(&f.refresh(&tokens.access_token).await, 400, "invalid_grant");

    // Issued to another client: refused, and left alone for its owner.
    let other = f.oauth.create_application("other", ClientType::Confidential).await.unwrap();
    let foreign = f.server.post("/o/token/").basic_auth(&other.client_id, other.client_secret.as_deref()).form(&grant);
    assert_oauth_error(&f.server.send(foreign).await, 400, "invalid_grant");

    // Nothing above spent the token.
    assert_eq!(f.refresh(rt).await.status, 200);

    // Only POST.
    let get = f.server.send(f.server.get("/o/token/")).await;
    assert_oauth_error(&get, 405, "invalid_request");
    assert_eq!(get.header("allow"), Some("POST"));
    // They are endpoints of the registry like any other.
    let routes = nets_runtime::route_registry();
    for path in ["/o/token/", "/o/revoke_token/"] {
        let route = routes.iter().find(|r| r.path == path).unwrap_or_else(|| panic!("{path} is not registered"));
        assert_eq!((route.methods.as_slice(), route.public), (["POST"].as_slice(), true));
    }

    // Hostile bodies: oversized, not UTF-8 (refused, never decoded lossily: issue 11).
    let client = format!("client_id={}&client_secret={}", f.app.client_id, f.secret());
    let huge = format!("{client}&grant_type=refresh_token&refresh_token={}", "a".repeat(64 * 1024));
    let form = |body: Vec<u8>| {
        f.server.post("/o/token/").header("content-type", "application/x-www-form-urlencoded").body(body)
    };
    let reply = f.server.send(form(huge.into_bytes())).await;
    assert_oauth_error(&reply, 413, "invalid_request");
    let mut binary = format!("{client}&grant_type=refresh_token&refresh_token=").into_bytes();
    binary.extend_from_slice(&[0xff, 0xfe, b'%', b'F', b'F', 0x00]);
    assert_oauth_error(&f.server.send(form(binary)).await, 400, "invalid_request");
    let revoke = f.server.post("/o/revoke_token/").header("content-type", "application/x-www-form-urlencoded");
    let reply = f.server.send(revoke.body(format!("{client}&token={}", "b".repeat(64 * 1024)))).await;
    assert_oauth_error(&reply, 413, "invalid_request");
}

#[tokio::test]
async fn expired_and_inactive_refresh_grants_are_refused() {
    let f = Fixture::new().await;
    let tokens = f.login().await;
    let digest = f.oauth.token_digest(&tokens.refresh_token);
    let past = Utc::now() - chrono::Duration::seconds(5);
    on_pool!(f.db, |pool| sqlx::query("UPDATE nets_refresh_token SET expires = $1 WHERE token_digest = $2")
        .bind(past)
        .bind(&digest)
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
    assert_oauth_error(&f.refresh(&tokens.refresh_token).await, 400, "invalid_grant");

    let tokens = f.login().await;
    execute(&f.db, "UPDATE nets_user SET is_active = FALSE WHERE id = $1", f.user).await;
    assert_oauth_error(&f.refresh(&tokens.refresh_token).await, 400, "invalid_grant");
    execute(&f.db, "UPDATE nets_user SET is_active = TRUE WHERE id = $1", f.user).await;
    assert_eq!(f.refresh(&tokens.refresh_token).await.status, 200, "refused, not spent");
}

#[tokio::test]
async fn public_clients_authenticate_with_their_id_only() {
    let f = Fixture::new().await;
    let public = f.oauth.create_application("mobile", ClientType::Public).await.unwrap();
    let tokens = f.oauth.generate_tokens(f.user, public.id, None).await.unwrap();
    let form =
        [("grant_type", "refresh_token"), ("refresh_token", &tokens.refresh_token), ("client_id", &public.client_id)];
    let with_secret = [&form[..], &[("client_secret", "anything")]].concat();
    assert_oauth_error(&f.server.send(f.server.post("/o/token/").form(&with_secret)).await, 401, "invalid_client");
    let reply = f.server.send(f.server.post("/o/token/").form(&form)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

/// Issue 17: a deployed mobile app has its credentials compiled in; they must keep
/// working after a move to nets, and are still stored as digests only.
#[tokio::test]
async fn imported_applications_keep_their_client_id_and_secret() {
    let f = Fixture::new().await;
    let imported = f
        .oauth
        .import_application("legacy", ClientType::Confidential, "legacy-android", Some("compiled-in-secret-1234"))
        .await
        .unwrap();
    let stored: Option<String> = on_pool!(f.db, |pool| sqlx::query_scalar(
        "SELECT client_secret_digest FROM nets_oauth_application WHERE client_id = 'legacy-android'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert!(stored.as_deref().is_some_and(is_hex64), "a digest, never the secret: {stored:?}");
    let tokens = f.oauth.generate_tokens(f.user, imported.id, None).await.unwrap();
    let refresh = |secret: &'static str| {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens.refresh_token.as_str()),
            ("client_id", "legacy-android"),
            ("client_secret", secret),
        ];
        f.server.send(f.server.post("/o/token/").form(&form))
    };
    assert_oauth_error(&refresh("another-secret").await, 401, "invalid_client");
    assert_eq!(refresh("compiled-in-secret-1234").await.status, 200);

    // Refused: a taken id, bad ids, a confidential client without a secret, a public
    // client with one.
    let import =
        |id: &'static str, kind, secret: Option<&'static str>| f.oauth.import_application("x", kind, id, secret);
    let exists = import("legacy-android", ClientType::Confidential, Some("s")).await;
    assert!(matches!(exists, Err(ImportError::Exists)), "{exists:?}");
    for id in ["", "has space", "tab\tid", &"x".repeat(101)] {
        let id: &'static str = Box::leak(id.to_owned().into_boxed_str());
        assert!(matches!(import(id, ClientType::Public, None).await, Err(ImportError::ClientId)), "{id:?}");
    }
    assert!(matches!(import("c1", ClientType::Confidential, None).await, Err(ImportError::Secret)));
    assert!(matches!(import("c2", ClientType::Public, Some("s")).await, Err(ImportError::SecretOfPublicClient)));
    assert!(import("c3", ClientType::Public, None).await.is_ok());
}

#[tokio::test]
async fn refresh_chains_end_at_the_absolute_maximum() {
    let f = Fixture::with_settings(
        "SECRET_KEY = 'k-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\nREFRESH_TOKEN_EXPIRE_SECONDS = 60\nREFRESH_TOKEN_MAX_AGE_SECONDS = 60",
    )
    .await;
    let tokens = f.login().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reply = f.refresh(&tokens.refresh_token).await;
    let next = reply.json["refresh_token"].as_str().unwrap();
    let expires: DateTime<Utc> =
        on_pool!(f.db, |pool| sqlx::query_scalar("SELECT expires FROM nets_refresh_token WHERE token_digest = $1")
            .bind(f.oauth.token_digest(next))
            .fetch_one(pool)
            .await
            .unwrap());
    let left = expires - Utc::now();
    // A fresh 60 s, were it not capped at 60 s after the login, a second ago.
    assert!(left < chrono::Duration::milliseconds(59_500), "{left}");
    assert!(left > chrono::Duration::seconds(55), "{left}");

    assert!(Settings::from_toml("REFRESH_TOKEN_EXPIRE_SECONDS = 100\nREFRESH_TOKEN_MAX_AGE_SECONDS = 50").is_err());
    assert!(Settings::from_toml("ACCESS_TOKEN_EXPIRE_SECONDS = 0").is_err());
}

#[tokio::test]
async fn revocation_endpoint_follows_rfc_7009() {
    let f = Fixture::new().await;

    // A refresh token: its whole login goes.
    let a = f.login().await;
    let reply = f.revoke(&a.refresh_token).await;
    assert_eq!((reply.status, reply.bytes.len()), (200, 0), "{}", reply.text());
    assert_invalid_token(&f.me(&a.access_token).await);
    assert_oauth_error(&f.refresh(&a.refresh_token).await, 400, "invalid_grant");

    // An access token (with a hint that does not match): the same.
    let b = f.login().await;
    let hinted = [
        ("client_id", f.app.client_id.as_str()),
        ("client_secret", f.secret()),
        ("token", b.access_token.as_str()),
        ("token_type_hint", "refresh_token"),
    ];
    assert_eq!(f.server.send(f.server.post("/o/revoke_token").form(&hinted)).await.status, 200);
    assert_invalid_token(&f.me(&b.access_token).await);
    assert_oauth_error(&f.refresh(&b.refresh_token).await, 400, "invalid_grant");

    // Unknown tokens: 200, nothing happens.
    assert_eq!(f.revoke("no-such-token").await.status, 200);
    assert_eq!(f.revoke(&a.refresh_token).await.status, 200, "already revoked");

    // Another client's token: 200, but not revoked.
    let c = f.login().await;
    let other = f.oauth.create_application("other", ClientType::Confidential).await.unwrap();
    let foreign = f
        .server
        .post("/o/revoke_token/")
        .basic_auth(&other.client_id, other.client_secret.as_deref())
        .form(&[("token", c.access_token.as_str())]);
    assert_eq!(f.server.send(foreign).await.status, 200);
    f.me(&c.access_token).await.data();

    // Errors.
    let no_token = [("client_id", f.app.client_id.as_str()), ("client_secret", f.secret())];
    assert_oauth_error(&f.server.send(f.server.post("/o/revoke_token/").form(&no_token)).await, 400, "invalid_request");
    let no_client = f.server.post("/o/revoke_token/").form(&[("token", c.access_token.as_str())]);
    assert_oauth_error(&f.server.send(no_client).await, 401, "invalid_client");
    f.me(&c.access_token).await.data();
}

#[tokio::test]
async fn two_servers_on_one_database_share_tokens() {
    let f = Fixture::new().await;
    // A second process: same database and SECRET_KEY, its own OAuth and router.
    let settings = nets_tests::settings(SETTINGS);
    let oauth2 = OAuth::from_settings(&settings, &f.db.db).await.unwrap();
    let app2 = App::builder(settings).database(f.db.db.clone()).authenticator(oauth2.bearer());
    let server2 = TestServer::start(
        app2.install(oauth2.clone()).routes(build_urlpatterns!().unwrap()).build().expect("app").router(),
    )
    .await;

    let tokens = f.login().await;
    server2.send(server2.get("/me/").bearer_auth(&tokens.access_token)).await.data();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens.refresh_token.as_str()),
        ("client_id", f.app.client_id.as_str()),
        ("client_secret", f.secret()),
    ];
    let rotated = server2.send(server2.post("/o/token/").form(&form)).await;
    let access = rotated.json["access_token"].as_str().unwrap();
    f.me(access).await.data();
    f.revoke(access).await;
    assert_invalid_token(&server2.send(server2.get("/me/").bearer_auth(access)).await);
}

#[tokio::test]
async fn a_missing_secret_key_stops_startup_outside_debug() {
    let db = test_db().await;
    let err = OAuth::from_settings(&Settings::default(), &db.db).await.unwrap_err();
    assert!(err.to_string().contains("SECRET_KEY"), "{err}");
    assert!(OAuth::from_settings(&nets_tests::settings("DEBUG = true"), &db.db).await.is_ok());
    // Another key, other digests: tokens do not carry over.
    let a = OAuth::from_settings(&nets_tests::settings("SECRET_KEY = 'a-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"), &db.db)
        .await
        .unwrap();
    let b = OAuth::from_settings(&nets_tests::settings("SECRET_KEY = 'b-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'"), &db.db)
        .await
        .unwrap();
    assert_ne!(a.token_digest("t"), b.token_digest("t"));
}

#[tokio::test]
async fn expired_tokens_can_be_purged() {
    let f = Fixture::new().await;
    let live = f.login().await;
    let past = Utc::now() - chrono::Duration::seconds(1);
    f.oauth.generate_tokens(f.user, f.app.id, Some(past)).await.unwrap();
    assert_eq!(f.oauth.purge_expired().await.unwrap(), 1, "the expired access token");
    f.me(&live.access_token).await.data();
    assert_eq!(f.refresh(&live.refresh_token).await.status, 200);
}
