//! Local social-login peers: the documented endpoints of Google/Apple/Microsoft (OpenID
//! Connect), Facebook and GitHub that nets' social login calls, implemented for real on
//! 127.0.0.1, so the tests exercise nets' verification against the protocols rather
//! than against mocks of its own code.
//!
//! * [`OidcPeer`]: the JWKS document ID tokens are verified with (key rotation, the
//!   `Cache-Control` lifetime a client must honour) and the authorization-code token
//!   endpoint (RFC 6749 §4.1.3 with PKCE, RFC 7636). ID tokens themselves are minted by
//!   the test with [`sign`], and the forgeries a verifier must refuse with
//!   [`sign_with_kid`], [`forge_hs256_with_public_key`] and [`unsigned`].
//! * [`FacebookPeer`]: the Graph API's `debug_token` (which app a user token was issued
//!   to), `me` with `appsecret_proof` (HMAC-SHA256 of the token under the app secret,
//!   [`appsecret_proof`]) and the code exchange.
//! * [`GithubPeer`]: the OAuth-app token check (`POST /applications/{client_id}/token`,
//!   HTTP Basic with the app's own id and secret), `user`, `user/emails`, and the code
//!   exchange, which answers its errors with a 200 as GitHub does.
//!
//! Every peer counts the requests it receives and can be switched into a failure
//! [`Mode`] (down, slow, answering HTML), so the tests can check that nets refuses a
//! login rather than trusting an answer it could not read. A code exchange is checked
//! in full (client, `redirect_uri`, the verifier's S256 challenge) because a client that
//! gets one of them wrong would still work against a lenient mock.
//!
//! ```no_run
//! # async fn demo() {
//! use nets_tests::social::{OidcPeer, TestKey, sign};
//! use serde_json::json;
//!
//! let google = OidcPeer::start().await; // publishes TestKey::Primary
//! let claims = json!({"iss": "https://accounts.google.com", "sub": "1", "aud": "client", "exp": 4102444800u64});
//! let id_token = sign(&claims, TestKey::Primary);
//! google.publish(&[TestKey::Primary, TestKey::Other]); // rotation
//! # let _ = id_token; }
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The primary signing key (the push fixtures' service-account key, a throwaway: see
/// `tests/fixtures/push/` and `tests/fixtures/social/`).
const PRIMARY_PRIVATE_KEY: &str = include_str!("../fixtures/push/test-service-account.key.pem");
/// Its public half as PEM text: the HMAC secret of the alg-confusion forgery.
const PRIMARY_PUBLIC_KEY: &str = include_str!("../fixtures/push/test-service-account.pub.pem");
/// An unrelated key (rotation, tokens from a signer the provider does not publish).
const OTHER_PRIVATE_KEY: &str = include_str!("../fixtures/push/other.key.pem");
const PRIMARY_JWK: &str = include_str!("../fixtures/social/jwks-primary.json");
const OTHER_JWK: &str = include_str!("../fixtures/social/jwks-other.json");

/// A signing key of the test providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestKey {
    /// `kid` `test-key-1`, published by [`OidcPeer::start`].
    Primary,
    /// `kid` `test-key-2`, published only when a test says so ([`OidcPeer::publish`]).
    Other,
}

impl TestKey {
    /// The key id: `test-key-1` or `test-key-2`.
    pub fn kid(self) -> &'static str {
        match self {
            TestKey::Primary => "test-key-1",
            TestKey::Other => "test-key-2",
        }
    }

    /// The public key as a JWK (RFC 7517), as a provider's JWKS lists it.
    pub fn jwk(self) -> Value {
        let text = match self {
            TestKey::Primary => PRIMARY_JWK,
            TestKey::Other => OTHER_JWK,
        };
        serde_json::from_str(text).expect("the JWK fixtures are JSON")
    }

    /// The private key (PKCS#8 PEM).
    pub fn private_pem(self) -> &'static str {
        match self {
            TestKey::Primary => PRIMARY_PRIVATE_KEY,
            TestKey::Other => OTHER_PRIVATE_KEY,
        }
    }
}

/// An RS256 JWT over `claims`, signed with `key`, header `kid` = `key.kid()`.
pub fn sign(claims: &Value, key: TestKey) -> String {
    sign_with_kid(claims, key, key.kid())
}

/// The same with another header `kid` (`"unknown"`, or the other key's, to check that a
/// verifier picks keys by `kid` and still verifies the signature).
pub fn sign_with_kid(claims: &Value, key: TestKey, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let encoding = EncodingKey::from_rsa_pem(key.private_pem().as_bytes()).expect("the test private key");
    jsonwebtoken::encode(&header, claims, &encoding).expect("RS256 signing")
}

/// The classic alg-confusion forgery: HS256 with the primary key's public PEM text (as
/// the file holds it) as the HMAC secret, `kid` `test-key-1`. A verifier that lets the
/// token's header choose the algorithm accepts it; nets must not.
pub fn forge_hs256_with_public_key(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(TestKey::Primary.kid().to_owned());
    let secret = EncodingKey::from_secret(PRIMARY_PUBLIC_KEY.as_bytes());
    jsonwebtoken::encode(&header, claims, &secret).expect("HS256 signing")
}

/// An unsigned token (`alg: none`, RFC 7519 §6): header `{"alg":"none","kid":"test-key-1"}`,
/// empty signature (`xxx.yyy.`).
pub fn unsigned(claims: &Value) -> String {
    let header = json!({"alg": "none", "kid": TestKey::Primary.kid()});
    format!("{}.{}.", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()))
}

/// The PKCE S256 challenge of `verifier`: BASE64URL-NOPAD(SHA256(verifier)) (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Facebook's `appsecret_proof`: lowercase hex HMAC-SHA256 of `token` under `app_secret`.
pub fn appsecret_proof(app_secret: &str, token: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key");
    mac.update(token.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// How a peer misbehaves; applies to every endpoint of the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Answers by the protocol.
    #[default]
    Normal,
    /// 503 with an HTML body, as a load balancer in front of a dead provider answers.
    Down,
    /// Sleeps this long, then answers normally (past the client's timeout, say).
    Slow(Duration),
    /// 200 `text/html` `<html>oops</html>`: a captive portal or a misrouted proxy. A client
    /// must not take a success status for a provider's answer.
    Garbage,
}

/// What every peer shares: the failure mode and the request counters.
#[derive(Default)]
struct Switch {
    mode: Mutex<Mode>,
    requests: AtomicUsize,
    by_path: Mutex<HashMap<String, usize>>,
}

impl Switch {
    fn path_requests(&self, path: &str) -> usize {
        lock(&self.by_path).get(path).copied().unwrap_or(0)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Counts the request (whatever the mode, so a test sees that a client tried), then
/// answers as the mode says.
async fn misbehave(State(switch): State<Arc<Switch>>, request: Request, next: Next) -> Response {
    switch.requests.fetch_add(1, Ordering::SeqCst);
    *lock(&switch.by_path).entry(request.uri().path().to_owned()).or_default() += 1;
    let mode = *lock(&switch.mode);
    match mode {
        Mode::Normal => next.run(request).await,
        Mode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        Mode::Down => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><body><h1>503 Service Unavailable</h1></body></html>",
        )
            .into_response(),
        Mode::Garbage => (StatusCode::OK, [(header::CONTENT_TYPE, "text/html")], "<html>oops</html>").into_response(),
    }
}

/// Serves `app` on a free port of 127.0.0.1 behind the [`Mode`] switch.
async fn serve(name: &str, app: Router, switch: Arc<Switch>) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind the {name} peer: {e}"));
    let addr = listener.local_addr().expect("peer address");
    let app = app.layer(middleware::from_fn_with_state(switch, misbehave));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), task)
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Request parameters from form-urlencoded `sources` (the query, a form body). A
/// parameter given twice is refused: RFC 6749 §3.2 says it "MUST NOT be included more
/// than once", and a client that repeats one is relying on which copy the server reads.
fn parse_params(sources: &[&[u8]]) -> Result<HashMap<String, String>, String> {
    let mut params = HashMap::new();
    for source in sources {
        for (name, value) in form_urlencoded::parse(source) {
            if params.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(format!("the parameter {name} is given more than once"));
            }
        }
    }
    Ok(params)
}

/// Whether the body is declared form-urlencoded (the token endpoint takes nothing else).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

/// `Authorization: Basic` credentials: `Ok(None)` when there are none, `Err` when the
/// header is Basic but not `base64(id:secret)`.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ()> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| ())?;
    let Some((scheme, encoded)) = value.split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| ())?;
    let decoded = String::from_utf8(decoded).map_err(|_| ())?;
    let (id, secret) = decoded.split_once(':').ok_or(())?;
    Ok(Some((id.to_owned(), secret.to_owned())))
}

/// One form-urlencoded value decoded (RFC 6749 §2.3.1 encodes Basic credentials so).
fn form_decode(text: &str) -> String {
    form_urlencoded::parse(format!("v={text}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// The bearer token of `Authorization: Bearer T` (or GitHub's older `token T`).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    match scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
        true if !token.is_empty() => Some(token),
        _ => None,
    }
}

/// An authorization code a test scripted, as the provider issued it.
struct ScriptedCode {
    /// The OIDC client it was issued to (`None`: the peer's own app).
    client: Option<(String, String)>,
    redirect_uri: String,
    /// The S256 `code_challenge` of the authorization request; empty: no PKCE.
    challenge: String,
    /// The token endpoint's success body.
    answer: Value,
    spent: bool,
}

/// Why a code exchange is refused (beyond client authentication).
#[derive(Debug)]
enum Refusal {
    UnknownCode,
    Spent,
    RedirectUri,
    Verifier(&'static str),
}

impl Refusal {
    fn description(&self) -> &'static str {
        match self {
            Refusal::UnknownCode => "the code is not one this provider issued",
            Refusal::Spent => "the code was already used",
            Refusal::RedirectUri => "redirect_uri does not match the authorization request",
            Refusal::Verifier(why) => why,
        }
    }
}

/// Checks the exchange of the code in `params` (RFC 6749 §4.1.3, RFC 7636 §4.6) and
/// spends it. A code is spent only by a successful exchange, so a test can show one
/// mistake refused and then the same code redeemed; a second redemption is refused.
fn redeem(codes: &mut HashMap<String, ScriptedCode>, params: &HashMap<String, String>) -> Result<Value, Refusal> {
    let code = params.get("code").map(String::as_str).unwrap_or_default();
    let scripted = codes.get_mut(code).ok_or(Refusal::UnknownCode)?;
    check_grant(scripted, params)?;
    scripted.spent = true;
    Ok(scripted.answer.clone())
}

fn check_grant(scripted: &ScriptedCode, params: &HashMap<String, String>) -> Result<(), Refusal> {
    if scripted.spent {
        return Err(Refusal::Spent);
    }
    if params.get("redirect_uri") != Some(&scripted.redirect_uri) {
        return Err(Refusal::RedirectUri);
    }
    if scripted.challenge.is_empty() {
        return Ok(());
    }
    let Some(verifier) = params.get("code_verifier") else {
        return Err(Refusal::Verifier("code_verifier is required: the authorization request had a code_challenge"));
    };
    // RFC 7636 §4.1: 43 to 128 unreserved characters.
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return Err(Refusal::Verifier("code_verifier must be 43 to 128 unreserved characters"));
    }
    if s256_challenge(verifier) != scripted.challenge {
        return Err(Refusal::Verifier("code_verifier does not match the code_challenge"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// OpenID Connect
// ---------------------------------------------------------------------------------------

struct Oidc {
    keys: Mutex<Vec<TestKey>>,
    max_age: Mutex<u64>,
    codes: Mutex<HashMap<String, ScriptedCode>>,
}

/// An OpenID Connect provider (Google, Apple, Microsoft): its JWKS and its
/// authorization-code token endpoint. Stops when dropped.
///
/// * `GET /jwks`: `{"keys": [..]}` with the published keys ([`publish`](Self::publish)),
///   `Cache-Control: public, max-age=N` ([`set_max_age`](Self::set_max_age)), as Google
///   serves it: a client should cache the keys that long, and refetch on an unknown `kid`.
/// * `POST /token`: the code exchange, see [`script_code`](Self::script_code).
pub struct OidcPeer {
    base: String,
    state: Arc<Oidc>,
    switch: Arc<Switch>,
    task: JoinHandle<()>,
}

impl Drop for OidcPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OidcPeer {
    /// Starts on a free port, publishing [`TestKey::Primary`] with `max-age=3600`.
    pub async fn start() -> OidcPeer {
        let state = Arc::new(Oidc {
            keys: Mutex::new(vec![TestKey::Primary]),
            max_age: Mutex::new(3600),
            codes: Mutex::new(HashMap::new()),
        });
        let switch = Arc::new(Switch::default());
        let app =
            Router::new().route("/jwks", get(oidc_jwks)).route("/token", post(oidc_token)).with_state(state.clone());
        let (base, task) = serve("OpenID Connect", app, switch.clone()).await;
        OidcPeer { base, state, switch, task }
    }

    /// `http://127.0.0.1:<port>`
    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    /// `<base>/jwks`: the provider's `jwks_uri`.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.base)
    }

    /// `<base>/token`: the provider's `token_endpoint`.
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base)
    }

    /// The keys the JWKS lists from now on (key rotation: publish `[Primary, Other]`, then
    /// `[Other]`).
    pub fn publish(&self, keys: &[TestKey]) {
        *lock(&self.state.keys) = keys.to_vec();
    }

    /// The JWKS `Cache-Control: max-age` from now on.
    pub fn set_max_age(&self, secs: u64) {
        *lock(&self.state.max_age) = secs;
    }

    /// How every endpoint answers from now on.
    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.switch.mode) = mode;
    }

    /// Requests to the JWKS, whatever the mode (to check caching).
    pub fn jwks_requests(&self) -> usize {
        self.switch.path_requests("/jwks")
    }

    /// Requests to any path, whatever the mode.
    pub fn requests(&self) -> usize {
        self.switch.requests.load(Ordering::SeqCst)
    }

    /// Scripts an authorization code, as if the provider had issued `code` to
    /// `client_id` for `redirect_uri` with the S256 `challenge` (empty: no PKCE).
    ///
    /// `POST /token` then takes a form body with `grant_type=authorization_code`, `code`,
    /// the same `redirect_uri`, the client's credentials (form `client_id` and
    /// `client_secret`, or HTTP Basic, not both: RFC 6749 §2.3.1) and a `code_verifier`
    /// whose S256 challenge is `challenge`. It answers 200
    /// `{"access_token":"at-<code>","token_type":"Bearer","expires_in":3600,"id_token":<id_token>}`;
    /// 401 `invalid_client` for wrong or missing client credentials; 400 `invalid_grant`
    /// for an unknown or already redeemed code, another `redirect_uri` or a bad verifier;
    /// 400 `invalid_request` / `unsupported_grant_type` for a malformed request.
    pub fn script_code(
        &self,
        code: &str,
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
        challenge: &str,
        id_token: String,
    ) {
        let answer = json!({
            "access_token": format!("at-{code}"),
            "token_type": "Bearer",
            "expires_in": 3600,
            "id_token": id_token,
        });
        lock(&self.state.codes).insert(
            code.to_owned(),
            ScriptedCode {
                client: Some((client_id.to_owned(), client_secret.to_owned())),
                redirect_uri: redirect_uri.to_owned(),
                challenge: challenge.to_owned(),
                answer,
                spent: false,
            },
        );
    }
}

async fn oidc_jwks(State(state): State<Arc<Oidc>>) -> Response {
    let keys: Vec<Value> = lock(&state.keys).iter().map(|k| k.jwk()).collect();
    let max_age = *lock(&state.max_age);
    let mut response = axum::Json(json!({ "keys": keys })).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    response
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, axum::Json(json!({"error": error, "error_description": description}))).into_response()
}

async fn oidc_token(State(state): State<Arc<Oidc>>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_form(&headers) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "the body must be form-urlencoded");
    }
    let params = match parse_params(&[&body]) {
        Ok(p) => p,
        Err(why) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &why),
    };
    if params.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only authorization_code");
    }
    let basic = match basic_credentials(&headers) {
        Ok(b) => b.map(|(id, secret)| (form_decode(&id), form_decode(&secret))),
        Err(()) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "malformed Basic credentials"),
    };
    let form = params
        .get("client_secret")
        .map(|secret| (params.get("client_id").cloned().unwrap_or_default(), secret.clone()));
    let presented = match (basic.is_some(), form) {
        (true, Some(_)) => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "more than one client authentication");
        }
        (true, None) => basic.clone(),
        (false, form) => form,
    };
    // A form `client_id` must name the authenticated client too.
    let named_other = basic.as_ref().is_some_and(|(id, _)| params.get("client_id").is_some_and(|c| c != id));
    let mut codes = lock(&state.codes);
    let code = params.get("code").map(String::as_str).unwrap_or_default();
    let Some(scripted) = codes.get(code) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", Refusal::UnknownCode.description());
    };
    if presented.is_none() || presented != scripted.client || named_other {
        let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
        if basic.is_some() {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"token\""));
        }
        return response;
    }
    match redeem(&mut codes, &params) {
        Ok(answer) => {
            let mut response = axum::Json(answer).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(refusal) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", refusal.description()),
    }
}

// ---------------------------------------------------------------------------------------
// Facebook
// ---------------------------------------------------------------------------------------

struct FacebookToken {
    app_id: String,
    user_id: String,
    profile: Value,
}

struct Facebook {
    app_id: String,
    app_secret: String,
    tokens: Mutex<HashMap<String, FacebookToken>>,
    codes: Mutex<HashMap<String, ScriptedCode>>,
}

/// The Facebook Graph API, unversioned (paths relative to [`base_url`](Self::base_url)).
/// Stops when dropped.
///
/// * `GET /debug_token?input_token=T&access_token=APP_ID|APP_SECRET`: the app access
///   token must be this app's (else 400 `OAuthException` 190). A known `T` answers
///   `{"data":{"app_id":<the app it was issued to>,"type":"USER","is_valid":true,"user_id":..,..}}`,
///   an unknown one `{"data":{"is_valid":false,"error":{..}}}`, both 200 as Facebook
///   does: the `app_id` is what tells a server a token minted for another app.
/// * `GET /me?fields=..&access_token=T&appsecret_proof=P`: `P` must be
///   [`appsecret_proof`]`(app_secret, T)` (else 400 `GraphMethodException` 100; always
///   for another app's token, whose secret is not this app's), `T` known (else 400
///   `OAuthException` 190). Answers the profile's requested fields that exist, `id` always.
/// * `GET|POST /oauth/access_token`: the code exchange, see [`script_code`](Self::script_code).
pub struct FacebookPeer {
    base: String,
    state: Arc<Facebook>,
    switch: Arc<Switch>,
    task: JoinHandle<()>,
}

impl Drop for FacebookPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FacebookPeer {
    /// Starts on a free port as the Graph API seen by app `app_id` with `app_secret`.
    pub async fn start(app_id: &str, app_secret: &str) -> FacebookPeer {
        let state = Arc::new(Facebook {
            app_id: app_id.to_owned(),
            app_secret: app_secret.to_owned(),
            tokens: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
        });
        let switch = Arc::new(Switch::default());
        let app = Router::new()
            .route("/debug_token", get(facebook_debug_token))
            .route("/me", get(facebook_me))
            .route("/oauth/access_token", get(facebook_exchange).post(facebook_exchange))
            .with_state(state.clone());
        let (base, task) = serve("Facebook", app, switch.clone()).await;
        FacebookPeer { base, state, switch, task }
    }

    /// `http://127.0.0.1:<port>`: the Graph API root, without a version.
    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    /// A user access token `token`, issued to `app_id` (this app's, or another app's for
    /// a token a server must refuse) for Facebook user `user_id`, whose `/me` is
    /// `profile` (`{"id","name","first_name","last_name","email","picture":{"data":{"url"}}}`).
    pub fn add_token(&self, token: &str, app_id: &str, user_id: &str, profile: Value) {
        lock(&self.state.tokens).insert(
            token.to_owned(),
            FacebookToken { app_id: app_id.to_owned(), user_id: user_id.to_owned(), profile },
        );
    }

    /// Scripts an authorization code issued to this app for `redirect_uri` with the S256
    /// `challenge` (empty: no PKCE). `/oauth/access_token` (query or form: `client_id`,
    /// `client_secret`, `redirect_uri`, `code`, `code_verifier`) then answers 200
    /// `{"access_token":<access_token>,"token_type":"bearer","expires_in":3600}`, or a 400
    /// `OAuthException` for another client, `redirect_uri` or verifier, or a used code.
    pub fn script_code(&self, code: &str, redirect_uri: &str, challenge: &str, access_token: &str) {
        let answer = json!({"access_token": access_token, "token_type": "bearer", "expires_in": 3600});
        lock(&self.state.codes).insert(
            code.to_owned(),
            ScriptedCode {
                client: None,
                redirect_uri: redirect_uri.to_owned(),
                challenge: challenge.to_owned(),
                answer,
                spent: false,
            },
        );
    }

    /// How every endpoint answers from now on.
    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.switch.mode) = mode;
    }

    /// Requests to any path, whatever the mode.
    pub fn requests(&self) -> usize {
        self.switch.requests.load(Ordering::SeqCst)
    }
}

/// A Graph API error: 400 `{"error":{"message","type","code","fbtrace_id"}}`.
fn graph_error(kind: &str, code: u16, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "code": code, "fbtrace_id": "nets-test"}});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

fn invalid_oauth_token() -> Response {
    graph_error("OAuthException", 190, "Invalid OAuth access token.")
}

async fn facebook_debug_token(State(state): State<Arc<Facebook>>, RawQuery(query): RawQuery) -> Response {
    let params = match parse_params(&[query.unwrap_or_default().as_bytes()]) {
        Ok(p) => p,
        Err(why) => return graph_error("OAuthException", 100, &why),
    };
    let app_token = format!("{}|{}", state.app_id, state.app_secret);
    if params.get("access_token") != Some(&app_token) {
        return invalid_oauth_token();
    }
    let Some(input) = params.get("input_token").filter(|t| !t.is_empty()) else {
        return graph_error("OAuthException", 100, "(#100) The parameter input_token is required");
    };
    let tokens = lock(&state.tokens);
    let data = match tokens.get(input) {
        Some(token) => {
            let now = now_secs();
            json!({
                "app_id": token.app_id,
                "type": "USER",
                "application": "test",
                "data_access_expires_at": now + 90 * 86400,
                "expires_at": now + 3600,
                "is_valid": true,
                "issued_at": now,
                "scopes": ["email", "public_profile"],
                "user_id": token.user_id,
            })
        }
        None => json!({
            "is_valid": false,
            "error": {"code": 190, "message": "Invalid OAuth access token."},
        }),
    };
    axum::Json(json!({ "data": data })).into_response()
}

async fn facebook_me(State(state): State<Arc<Facebook>>, RawQuery(query): RawQuery) -> Response {
    let params = match parse_params(&[query.unwrap_or_default().as_bytes()]) {
        Ok(p) => p,
        Err(why) => return graph_error("OAuthException", 100, &why),
    };
    let Some(token) = params.get("access_token").filter(|t| !t.is_empty()) else {
        return graph_error(
            "OAuthException",
            2500,
            "An active access token must be used to query information about the current user.",
        );
    };
    let tokens = lock(&state.tokens);
    let Some(issued) = tokens.get(token) else { return invalid_oauth_token() };
    // The proof is keyed with the secret of the app the token was issued to: a server
    // replaying another app's token cannot compute it.
    let proof_ok = issued.app_id == state.app_id
        && params.get("appsecret_proof").is_some_and(|p| *p == appsecret_proof(&state.app_secret, token));
    if !proof_ok {
        return graph_error("GraphMethodException", 100, "Invalid appsecret_proof provided in the API argument");
    }
    let fields = params.get("fields").map(String::as_str).unwrap_or("id,name");
    let mut answer = serde_json::Map::new();
    if let Some(id) = issued.profile.get("id") {
        answer.insert("id".to_owned(), id.clone());
    }
    for field in fields.split(',') {
        // `picture.type(large)`, `picture{url}`: the field's name is what precedes them.
        let name = field.trim().split(['.', '{']).next().unwrap_or_default();
        if let Some(value) = issued.profile.get(name) {
            answer.insert(name.to_owned(), value.clone());
        }
    }
    axum::Json(Value::Object(answer)).into_response()
}

async fn facebook_exchange(
    State(state): State<Arc<Facebook>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let sources: Vec<&[u8]> = match is_form(&headers) {
        true => vec![query.as_bytes(), &body],
        false => vec![query.as_bytes()],
    };
    let params = match parse_params(&sources) {
        Ok(p) => p,
        Err(why) => return graph_error("OAuthException", 100, &why),
    };
    if params.get("client_id") != Some(&state.app_id) {
        return graph_error("OAuthException", 101, "Error validating application. Invalid application ID.");
    }
    if params.get("client_secret") != Some(&state.app_secret) {
        return graph_error("OAuthException", 1, "Error validating client secret.");
    }
    match redeem(&mut lock(&state.codes), &params) {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(refusal) => {
            let message = match refusal {
                Refusal::UnknownCode => "Invalid verification code format.",
                Refusal::Spent => "This authorization code has been used.",
                Refusal::RedirectUri => {
                    "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request"
                }
                Refusal::Verifier(why) => why,
            };
            graph_error("OAuthException", 100, message)
        }
    }
}

// ---------------------------------------------------------------------------------------
// GitHub
// ---------------------------------------------------------------------------------------

struct GithubToken {
    client_id: String,
    user: Value,
    emails: Value,
}

struct Github {
    client_id: String,
    client_secret: String,
    tokens: Mutex<HashMap<String, GithubToken>>,
    codes: Mutex<HashMap<String, ScriptedCode>>,
}

/// The GitHub REST API, and github.com's code exchange on the same port. Stops when
/// dropped. Every REST call needs a `User-Agent` (GitHub refuses requests without one
/// with a 403, and reqwest sends none unless told).
///
/// * `POST /applications/{client_id}/token` `{"access_token": T}`, HTTP Basic with this
///   app's client id and secret (else 401 `Requires authentication`), the path's client
///   id the authenticated one: 200 with the token's `user` when `T` was issued to this
///   app, else 404. This is how a server learns a token is not another app's.
/// * `GET /user`, `GET /user/emails` with `Authorization: Bearer T` (or `token T`): the
///   token's user and addresses, or 401 `Bad credentials`.
/// * `POST /login/oauth/access_token`: the code exchange, see [`script_code`](Self::script_code).
pub struct GithubPeer {
    base: String,
    state: Arc<Github>,
    switch: Arc<Switch>,
    task: JoinHandle<()>,
}

impl Drop for GithubPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl GithubPeer {
    /// Starts on a free port as GitHub seen by OAuth app `client_id` with `client_secret`.
    pub async fn start(client_id: &str, client_secret: &str) -> GithubPeer {
        let state = Arc::new(Github {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            tokens: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
        });
        let switch = Arc::new(Switch::default());
        let app = Router::new()
            .route("/applications/{client_id}/token", post(github_check_token))
            .route("/user", get(github_user))
            .route("/user/emails", get(github_emails))
            .route("/login/oauth/access_token", post(github_exchange))
            .with_state(state.clone());
        let (base, task) = serve("GitHub", app, switch.clone()).await;
        GithubPeer { base, state, switch, task }
    }

    /// `http://127.0.0.1:<port>`: the API root (api.github.com), and github.com too.
    pub fn base_url(&self) -> String {
        self.base.clone()
    }

    /// A token `token` issued to OAuth app `client_id` (this app's, or another app's for
    /// a token a server must refuse) for `user` (`{"id":123,"login":"octo","name":"Octo
    /// Cat","avatar_url":..}`) with `emails` (`[{"email","primary","verified","visibility"}]`).
    pub fn add_token(&self, token: &str, client_id: &str, user: Value, emails: Value) {
        lock(&self.state.tokens)
            .insert(token.to_owned(), GithubToken { client_id: client_id.to_owned(), user, emails });
    }

    /// Scripts an authorization code issued to this app for `redirect_uri` with the S256
    /// `challenge` (empty: no PKCE). `POST /login/oauth/access_token` (query, form or JSON:
    /// `client_id`, `client_secret`, `code`, `redirect_uri`, `code_verifier`) then answers
    /// `{"access_token":<access_token>,"token_type":"bearer","scope":"user:email"}` as JSON
    /// when the request accepts `application/json`, form-urlencoded otherwise (as GitHub
    /// does); a refusal is a 200 too, with `error` `incorrect_client_credentials`,
    /// `redirect_uri_mismatch` or `bad_verification_code`.
    pub fn script_code(&self, code: &str, redirect_uri: &str, challenge: &str, access_token: &str) {
        let answer = json!({"access_token": access_token, "token_type": "bearer", "scope": "user:email"});
        lock(&self.state.codes).insert(
            code.to_owned(),
            ScriptedCode {
                client: None,
                redirect_uri: redirect_uri.to_owned(),
                challenge: challenge.to_owned(),
                answer,
                spent: false,
            },
        );
    }

    /// How every endpoint answers from now on.
    pub fn set_mode(&self, mode: Mode) {
        *lock(&self.switch.mode) = mode;
    }

    /// Requests to any path, whatever the mode.
    pub fn requests(&self) -> usize {
        self.switch.requests.load(Ordering::SeqCst)
    }
}

fn github_error(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.as_u16().to_string(),
    });
    (status, axum::Json(body)).into_response()
}

/// GitHub's 403 for a request without `User-Agent`.
fn missing_user_agent(headers: &HeaderMap) -> Option<Response> {
    let present = headers.get(header::USER_AGENT).is_some_and(|v| !v.as_bytes().trim_ascii().is_empty());
    (!present).then(|| {
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header \
             (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). \
             Check https://developer.github.com for other possible causes.\n",
        )
            .into_response()
    })
}

async fn github_check_token(
    State(state): State<Arc<Github>>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = missing_user_agent(&headers) {
        return refused;
    }
    let authenticated = basic_credentials(&headers)
        .ok()
        .flatten()
        .is_some_and(|(id, secret)| id == state.client_id && secret == state.client_secret);
    if !authenticated {
        return github_error(StatusCode::UNAUTHORIZED, "Requires authentication");
    }
    if client_id != state.client_id {
        return github_error(StatusCode::NOT_FOUND, "Not Found");
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(token) = body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty()) else {
        return github_error(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request.\n\n\"access_token\" wasn't supplied.");
    };
    let tokens = lock(&state.tokens);
    match tokens.get(token) {
        Some(issued) if issued.client_id == client_id => axum::Json(json!({
            "id": 1,
            "url": "https://api.github.com/authorizations/1",
            "app": {"client_id": client_id, "name": "nets test", "url": "http://127.0.0.1/"},
            "token": token,
            "hashed_token": URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())),
            "note": null,
            "note_url": null,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "expires_at": null,
            "fingerprint": null,
            "scopes": ["user:email"],
            "user": issued.user,
        }))
        .into_response(),
        _ => github_error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// The token's entry for `/user` and `/user/emails`, or the answer refusing the request.
fn github_authorized(state: &Github, headers: &HeaderMap, pick: impl Fn(&GithubToken) -> Value) -> Response {
    if let Some(refused) = missing_user_agent(headers) {
        return refused;
    }
    let tokens = lock(&state.tokens);
    match bearer_token(headers).and_then(|t| tokens.get(t)) {
        Some(issued) => {
            let mut response = axum::Json(pick(issued)).into_response();
            response.headers_mut().insert("x-oauth-scopes", HeaderValue::from_static("user:email"));
            response
        }
        None => github_error(StatusCode::UNAUTHORIZED, "Bad credentials"),
    }
}

async fn github_user(State(state): State<Arc<Github>>, headers: HeaderMap) -> Response {
    github_authorized(&state, &headers, |t| t.user.clone())
}

async fn github_emails(State(state): State<Arc<Github>>, headers: HeaderMap) -> Response {
    github_authorized(&state, &headers, |t| t.emails.clone())
}

async fn github_exchange(
    State(state): State<Arc<Github>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("application/json"));
    let answer = |body: Value| -> Response {
        if wants_json {
            return axum::Json(body).into_response();
        }
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (name, value) in body.as_object().into_iter().flatten() {
            form.append_pair(name, value.as_str().unwrap_or(&value.to_string()));
        }
        ([(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")], form.finish()).into_response()
    };
    let refuse = |error: &str, description: &str| {
        answer(json!({
            "error": error,
            "error_description": description,
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
        }))
    };
    let query = query.unwrap_or_default();
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    let parsed = if json_body {
        let object: serde_json::Map<String, Value> = serde_json::from_slice(&body).unwrap_or_default();
        let body_form = object
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .fold(form_urlencoded::Serializer::new(String::new()), |mut s, (k, v)| {
                s.append_pair(&k, &v);
                s
            })
            .finish();
        parse_params(&[query.as_bytes(), body_form.as_bytes()])
    } else if is_form(&headers) {
        parse_params(&[query.as_bytes(), &body])
    } else {
        parse_params(&[query.as_bytes()])
    };
    let params = match parsed {
        Ok(p) => p,
        Err(why) => return (StatusCode::BAD_REQUEST, why).into_response(),
    };
    if params.get("client_id") != Some(&state.client_id) || params.get("client_secret") != Some(&state.client_secret) {
        return refuse("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
    }
    match redeem(&mut lock(&state.codes), &params) {
        Ok(body) => answer(body),
        Err(Refusal::RedirectUri) => refuse(
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
        ),
        Err(_) => refuse("bad_verification_code", "The code passed is incorrect or expired."),
    }
}
