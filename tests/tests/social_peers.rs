//! The local social-login peers themselves (`nets_tests::social`), over HTTP: what the
//! social-login tests take for the providers' behaviour must be what the providers
//! document, or a passing login test proves nothing.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use nets_tests::social::{
    FacebookPeer, GithubPeer, Mode, OidcPeer, TestKey, appsecret_proof, forge_hs256_with_public_key, s256_challenge,
    sign, sign_with_kid, unsigned,
};
use reqwest::{Client, Response};
use serde_json::{Value, json};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn client() -> Client {
    // reqwest's rustls needs its crypto provider before any client.
    nets_runtime::install_crypto_provider();
    Client::builder().no_proxy().user_agent("nets-peer-tests").build().expect("reqwest client")
}

async fn json_of(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text)))
}

fn claims() -> Value {
    json!({"iss": "https://accounts.google.com", "sub": "1234", "aud": "client-1", "exp": 4102444800u64})
}

fn validation() -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["client-1"]);
    validation.set_issuer(&["https://accounts.google.com"]);
    validation
}

/// The key of the published JWKS whose `kid` is `kid`.
fn decoding_key(jwks: &Value, kid: &str) -> Option<DecodingKey> {
    let jwk = jwks["keys"].as_array()?.iter().find(|k| k["kid"] == kid)?;
    let jwk: Jwk = serde_json::from_value(jwk.clone()).expect("a JWK");
    Some(DecodingKey::from_jwk(&jwk).expect("an RSA JWK"))
}

#[tokio::test]
async fn the_published_jwks_verifies_tokens_of_its_keys_only() {
    let peer = OidcPeer::start().await;
    let http = client();
    let response = http.get(peer.jwks_url()).send().await.expect("jwks");
    assert_eq!(response.headers()["cache-control"], "public, max-age=3600");
    let (status, jwks) = json_of(response).await;
    assert_eq!(status, 200);
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
    let primary = decoding_key(&jwks, "test-key-1").expect("the primary key is published");

    let token = sign(&claims(), TestKey::Primary);
    assert_eq!(jsonwebtoken::decode_header(&token).expect("header").kid.as_deref(), Some("test-key-1"));
    let decoded = jsonwebtoken::decode::<Value>(&token, &primary, &validation()).expect("a valid signature");
    assert_eq!(decoded.claims["sub"], "1234");
    // Signed by the other key under the primary's kid: the signature does not verify.
    let impostor = sign_with_kid(&claims(), TestKey::Other, "test-key-1");
    assert!(jsonwebtoken::decode::<Value>(&impostor, &primary, &validation()).is_err());
    assert!(decoding_key(&jwks, "test-key-2").is_none());
    let unknown = sign_with_kid(&claims(), TestKey::Primary, "unknown");
    assert_eq!(jsonwebtoken::decode_header(&unknown).expect("header").kid.as_deref(), Some("unknown"));

    // Rotation and the cache lifetime.
    peer.publish(&[TestKey::Primary, TestKey::Other]);
    peer.set_max_age(60);
    let response = http.get(peer.jwks_url()).send().await.expect("jwks");
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
    let (_, jwks) = json_of(response).await;
    let other = decoding_key(&jwks, "test-key-2").expect("the other key is published");
    let token = sign(&claims(), TestKey::Other);
    jsonwebtoken::decode::<Value>(&token, &other, &validation()).expect("the other key verifies its tokens");
    assert_eq!(TestKey::Other.jwk(), jwks["keys"][1]);
    assert_eq!((peer.jwks_requests(), peer.requests()), (2, 2));
}

#[tokio::test]
async fn the_forgeries_are_what_they_claim() {
    let forged = forge_hs256_with_public_key(&claims());
    let header = jsonwebtoken::decode_header(&forged).expect("header");
    assert_eq!((header.alg, header.kid.as_deref()), (Algorithm::HS256, Some("test-key-1")));
    // A real HS256 MAC under the public PEM text: what a confused verifier would check.
    let public_pem = include_str!("../fixtures/push/test-service-account.pub.pem");
    let mut hs256 = Validation::new(Algorithm::HS256);
    hs256.set_audience(&["client-1"]);
    jsonwebtoken::decode::<Value>(&forged, &DecodingKey::from_secret(public_pem.as_bytes()), &hs256)
        .expect("the forgery is HS256 over the public key");
    let primary = DecodingKey::from_jwk(&serde_json::from_value(TestKey::Primary.jwk()).expect("jwk")).expect("key");
    assert!(jsonwebtoken::decode::<Value>(&forged, &primary, &validation()).is_err());

    let token = unsigned(&claims());
    assert!(token.ends_with('.'));
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
    assert_eq!(header, json!({"alg": "none", "kid": "test-key-1"}));
    let body: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    assert_eq!(body, claims());
    assert!(jsonwebtoken::decode::<Value>(&token, &primary, &validation()).is_err());
}

#[test]
fn the_s256_challenge_is_rfc_7636s() {
    // RFC 7636 appendix B.
    assert_eq!(s256_challenge(VERIFIER), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

#[tokio::test]
async fn the_oidc_code_exchange_checks_client_redirect_and_verifier() {
    let peer = OidcPeer::start().await;
    let http = client();
    let id_token = sign(&claims(), TestKey::Primary);
    peer.script_code(
        "code-1",
        "client-1",
        "secret-1",
        "https://app.example/cb",
        &s256_challenge(VERIFIER),
        id_token.clone(),
    );
    let form = |pairs: &[(&str, &str)]| {
        let mut base = vec![
            ("grant_type", "authorization_code"),
            ("code", "code-1"),
            ("redirect_uri", "https://app.example/cb"),
            ("client_id", "client-1"),
            ("client_secret", "secret-1"),
            ("code_verifier", VERIFIER),
        ];
        for (name, value) in pairs {
            base.retain(|(n, _)| n != name);
            if !value.is_empty() {
                base.push((name, value));
            }
        }
        base.into_iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect::<Vec<_>>()
    };
    let exchange = |pairs: Vec<(String, String)>| http.post(peer.token_url()).form(&pairs).send();

    let wrong_verifier = "x".repeat(43);
    for (pairs, status, error) in [
        (form(&[("code_verifier", &wrong_verifier)]), 400, "invalid_grant"),
        (form(&[("code_verifier", "")]), 400, "invalid_grant"),
        (form(&[("code_verifier", "short")]), 400, "invalid_grant"),
        (form(&[("redirect_uri", "https://evil.example/cb")]), 400, "invalid_grant"),
        (form(&[("client_secret", "wrong")]), 401, "invalid_client"),
        (form(&[("client_id", "client-2")]), 401, "invalid_client"),
        (form(&[("client_secret", "")]), 401, "invalid_client"),
        (form(&[("code", "unknown")]), 400, "invalid_grant"),
        (form(&[("grant_type", "password")]), 400, "unsupported_grant_type"),
    ] {
        let (got, body) = json_of(exchange(pairs.clone()).await.expect("token")).await;
        assert_eq!((got, body["error"].as_str()), (status, Some(error)), "{pairs:?}: {body}");
    }
    let (status, body) = json_of(
        http.post(peer.token_url()).json(&json!({"grant_type": "authorization_code"})).send().await.expect("token"),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));

    // HTTP Basic, and a form secret too: refused; Basic alone: the answer.
    let basic_pairs = form(&[("client_secret", "")]);
    let both = http.post(peer.token_url()).basic_auth("client-1", Some("secret-1")).form(&form(&[])).send();
    let (status, body) = json_of(both.await.expect("token")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let basic = http.post(peer.token_url()).basic_auth("client-1", Some("secret-1")).form(&basic_pairs).send();
    let (status, body) = json_of(basic.await.expect("token")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"access_token": "at-code-1", "token_type": "Bearer", "expires_in": 3600, "id_token": id_token})
    );
    // Codes are single use.
    let (status, body) = json_of(exchange(form(&[])).await.expect("token")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn the_modes_apply_to_every_endpoint() {
    let peer = OidcPeer::start().await;
    let http = client();
    peer.set_mode(Mode::Down);
    let response = http.get(peer.jwks_url()).send().await.expect("jwks");
    assert_eq!(response.status().as_u16(), 503);
    assert!(response.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/html"));
    let response = http.post(peer.token_url()).send().await.expect("token");
    assert_eq!(response.status().as_u16(), 503);

    peer.set_mode(Mode::Garbage);
    let response = http.get(peer.jwks_url()).send().await.expect("jwks");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(response.text().await.expect("body"), "<html>oops</html>");

    peer.set_mode(Mode::Slow(Duration::from_millis(300)));
    let started = Instant::now();
    let response = http.get(peer.jwks_url()).send().await.expect("jwks");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(response.status().as_u16(), 200);

    peer.set_mode(Mode::Normal);
    assert_eq!(http.get(format!("{}/nowhere", peer.base_url())).send().await.expect("404").status().as_u16(), 404);
    assert_eq!((peer.jwks_requests(), peer.requests()), (3, 5));

    let facebook = FacebookPeer::start("app", "secret").await;
    facebook.set_mode(Mode::Down);
    let response = http.get(format!("{}/me", facebook.base_url())).send().await.expect("me");
    assert_eq!((response.status().as_u16(), facebook.requests()), (503, 1));
    let github = GithubPeer::start("gh-app", "gh-secret").await;
    github.set_mode(Mode::Garbage);
    let response = http.get(format!("{}/user", github.base_url())).send().await.expect("user");
    assert_eq!(response.text().await.expect("body"), "<html>oops</html>");
    assert_eq!(github.requests(), 1);
}

#[tokio::test]
async fn facebook_says_which_app_a_token_is_for_and_checks_the_proof() {
    let peer = FacebookPeer::start("app-1", "app-secret").await;
    let http = client();
    let profile = json!({"id": "fb-1", "name": "Ada L", "first_name": "Ada", "last_name": "L",
        "email": "ada@example.com", "picture": {"data": {"url": "https://pics.example/ada.jpg"}}});
    peer.add_token("user-token", "app-1", "fb-1", profile.clone());
    peer.add_token("stolen-token", "app-2", "fb-2", json!({"id": "fb-2", "name": "Bob"}));
    let base = peer.base_url();
    let debug = |input: &str, app_token: &str| {
        http.get(format!("{base}/debug_token")).query(&[("input_token", input), ("access_token", app_token)]).send()
    };

    let (status, body) = json_of(debug("user-token", "app-1|app-secret").await.expect("debug")).await;
    assert_eq!(status, 200);
    assert_eq!((&body["data"]["app_id"], &body["data"]["user_id"]), (&json!("app-1"), &json!("fb-1")));
    assert_eq!((&body["data"]["is_valid"], &body["data"]["type"]), (&json!(true), &json!("USER")));
    assert!(body["data"]["expires_at"].as_u64().is_some());
    let (_, body) = json_of(debug("stolen-token", "app-1|app-secret").await.expect("debug")).await;
    assert_eq!((&body["data"]["app_id"], &body["data"]["is_valid"]), (&json!("app-2"), &json!(true)));
    let (status, body) = json_of(debug("nope", "app-1|app-secret").await.expect("debug")).await;
    assert_eq!((status, &body["data"]["is_valid"], &body["data"]["error"]["code"]), (200, &json!(false), &json!(190)));
    let (status, body) = json_of(debug("user-token", "app-1|wrong").await.expect("debug")).await;
    assert_eq!((status, &body["error"]["code"], &body["error"]["type"]), (400, &json!(190), &json!("OAuthException")));

    let me = |token: &str, proof: Option<String>| {
        let mut query = vec![
            ("fields".to_owned(), "id,name,first_name,last_name,email,picture".to_owned()),
            ("access_token".to_owned(), token.to_owned()),
        ];
        query.extend(proof.map(|p| ("appsecret_proof".to_owned(), p)));
        http.get(format!("{base}/me")).query(&query).send()
    };
    let proof = appsecret_proof("app-secret", "user-token");
    assert_eq!(proof.len(), 64);
    assert!(proof.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let (status, body) = json_of(me("user-token", Some(proof)).await.expect("me")).await;
    assert_eq!((status, body), (200, profile));
    for proof in [None, Some(appsecret_proof("other-secret", "user-token")), Some("00".repeat(32))] {
        let (status, body) = json_of(me("user-token", proof).await.expect("me")).await;
        assert_eq!(
            (status, &body["error"]["code"], &body["error"]["type"]),
            (400, &json!(100), &json!("GraphMethodException"))
        );
    }
    // Another app's token: no proof this app can compute is accepted.
    let (status, body) =
        json_of(me("stolen-token", Some(appsecret_proof("app-secret", "stolen-token"))).await.expect("me")).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!(100)));
    let (status, body) = json_of(me("nope", Some(appsecret_proof("app-secret", "nope"))).await.expect("me")).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!(190)));
    // Only the requested fields.
    let response = http
        .get(format!("{base}/me"))
        .query(&[
            ("fields", "name,missing"),
            ("access_token", "user-token"),
            ("appsecret_proof", &appsecret_proof("app-secret", "user-token")),
        ])
        .send();
    assert_eq!(json_of(response.await.expect("me")).await.1, json!({"id": "fb-1", "name": "Ada L"}));

    // The code exchange.
    peer.script_code("fb-code", "https://app.example/fb", &s256_challenge(VERIFIER), "user-token");
    let exchange = |secret: &str, verifier: &str| {
        let pairs = [
            ("client_id", "app-1"),
            ("client_secret", secret),
            ("redirect_uri", "https://app.example/fb"),
            ("code", "fb-code"),
            ("code_verifier", verifier),
        ];
        http.post(format!("{base}/oauth/access_token")).form(&pairs).send()
    };
    let (status, body) = json_of(exchange("wrong", VERIFIER).await.expect("exchange")).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!(1)));
    let (status, body) = json_of(exchange("app-secret", &"y".repeat(43)).await.expect("exchange")).await;
    assert_eq!((status, &body["error"]["code"]), (400, &json!(100)));
    let (status, body) = json_of(exchange("app-secret", VERIFIER).await.expect("exchange")).await;
    assert_eq!(
        (status, body),
        (200, json!({"access_token": "user-token", "token_type": "bearer", "expires_in": 3600}))
    );
    let (status, body) = json_of(exchange("app-secret", VERIFIER).await.expect("exchange")).await;
    assert_eq!((status, &body["error"]["message"]), (400, &json!("This authorization code has been used.")));
}

#[tokio::test]
async fn github_checks_the_apps_credentials_and_the_tokens_app() {
    let peer = GithubPeer::start("gh-app", "gh-secret").await;
    let http = client();
    let base = peer.base_url();
    let user = json!({"id": 123, "login": "octo", "name": "Octo Cat", "avatar_url": "https://avatars.example/octo"});
    let emails = json!([{"email": "octo@example.com", "primary": true, "verified": true, "visibility": "public"}]);
    peer.add_token("gho_mine", "gh-app", user.clone(), emails.clone());
    peer.add_token("gho_theirs", "other-app", json!({"id": 9, "login": "eve"}), json!([]));
    let check = |path_client: &str, id: &str, secret: &str, token: &str| {
        http.post(format!("{base}/applications/{path_client}/token"))
            .basic_auth(id, Some(secret))
            .json(&json!({"access_token": token}))
            .send()
    };

    let (status, body) = json_of(check("gh-app", "gh-app", "gh-secret", "gho_mine").await.expect("check")).await;
    assert_eq!((status, &body["user"], &body["app"]["client_id"]), (200, &user, &json!("gh-app")));
    assert_eq!(body["token"], "gho_mine");
    let (status, body) = json_of(check("gh-app", "gh-app", "wrong", "gho_mine").await.expect("check")).await;
    assert_eq!((status, &body["message"]), (401, &json!("Requires authentication")));
    let no_auth = http.post(format!("{base}/applications/gh-app/token")).json(&json!({"access_token": "gho_mine"}));
    assert_eq!(no_auth.send().await.expect("check").status().as_u16(), 401);
    let (status, body) = json_of(check("gh-app", "gh-app", "gh-secret", "gho_theirs").await.expect("check")).await;
    assert_eq!((status, &body["message"]), (404, &json!("Not Found")));
    let (status, _) = json_of(check("other-app", "gh-app", "gh-secret", "gho_theirs").await.expect("check")).await;
    assert_eq!(status, 404);
    let (status, _) = json_of(check("gh-app", "gh-app", "gh-secret", "gho_unknown").await.expect("check")).await;
    assert_eq!(status, 404);

    let (status, body) =
        json_of(http.get(format!("{base}/user")).bearer_auth("gho_mine").send().await.expect("user")).await;
    assert_eq!((status, body), (200, user.clone()));
    let legacy = http.get(format!("{base}/user")).header("authorization", "token gho_mine").send();
    assert_eq!(json_of(legacy.await.expect("user")).await, (200, user));
    let (status, body) =
        json_of(http.get(format!("{base}/user/emails")).bearer_auth("gho_mine").send().await.expect("emails")).await;
    assert_eq!((status, body), (200, emails));
    let (status, body) =
        json_of(http.get(format!("{base}/user")).bearer_auth("gho_nope").send().await.expect("user")).await;
    assert_eq!((status, &body["message"]), (401, &json!("Bad credentials")));
    assert_eq!(http.get(format!("{base}/user/emails")).send().await.expect("emails").status().as_u16(), 401);
    // GitHub refuses API requests without a User-Agent.
    let bare = Client::builder().no_proxy().build().expect("client");
    assert_eq!(
        bare.get(format!("{base}/user")).bearer_auth("gho_mine").send().await.expect("user").status().as_u16(),
        403
    );

    // The code exchange answers errors with a 200, and form-urlencoded unless asked for JSON.
    peer.script_code("gh-code", "https://app.example/gh", &s256_challenge(VERIFIER), "gho_mine");
    let exchange = |secret: &str, redirect: &str, verifier: &str| {
        let pairs = [
            ("client_id", "gh-app"),
            ("client_secret", secret),
            ("code", "gh-code"),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ];
        http.post(format!("{base}/login/oauth/access_token")).header("accept", "application/json").form(&pairs).send()
    };
    let (status, body) = json_of(exchange("wrong", "https://app.example/gh", VERIFIER).await.expect("exchange")).await;
    assert_eq!((status, &body["error"]), (200, &json!("incorrect_client_credentials")));
    let (status, body) =
        json_of(exchange("gh-secret", "https://evil.example/gh", VERIFIER).await.expect("exchange")).await;
    assert_eq!((status, &body["error"]), (200, &json!("redirect_uri_mismatch")));
    let (status, body) =
        json_of(exchange("gh-secret", "https://app.example/gh", &"z".repeat(43)).await.expect("exchange")).await;
    assert_eq!((status, &body["error"]), (200, &json!("bad_verification_code")));
    let (status, body) =
        json_of(exchange("gh-secret", "https://app.example/gh", VERIFIER).await.expect("exchange")).await;
    assert_eq!(
        (status, body),
        (200, json!({"access_token": "gho_mine", "token_type": "bearer", "scope": "user:email"}))
    );
    let (_, body) = json_of(exchange("gh-secret", "https://app.example/gh", VERIFIER).await.expect("exchange")).await;
    assert_eq!(body["error"], "bad_verification_code");

    peer.script_code("gh-code-2", "https://app.example/gh", "", "gho_mine");
    let pairs = [
        ("client_id", "gh-app"),
        ("client_secret", "gh-secret"),
        ("code", "gh-code-2"),
        ("redirect_uri", "https://app.example/gh"),
    ];
    let response = http.post(format!("{base}/login/oauth/access_token")).form(&pairs).send().await.expect("exchange");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/x-www-form-urlencoded")
    );
    assert_eq!(response.text().await.expect("body"), "access_token=gho_mine&token_type=bearer&scope=user%3Aemail");
}
