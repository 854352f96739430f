//! A local FCM peer: the two documented endpoints push uses, implemented for real on
//! 127.0.0.1, so the tests exercise nets' push client against the protocol rather than
//! against mocks of its own code.
//!
//! * `POST /token` (the service account's `token_uri`): the OAuth 2.0 JWT-bearer grant
//!   (RFC 7523). The assertion must be RS256-signed by the test service account's key,
//!   with `iss` = its `client_email`, `aud` = this `token_uri`, the FCM `scope`, and an
//!   `exp` in the future at most an hour after `iat`; anything else is a 400
//!   `invalid_grant`. It issues short-lived opaque access tokens
//!   ([`FcmPeer::set_token_lifetime`]).
//! * `POST /v1/projects/{project}/messages:send`: the bearer token must be one it issued
//!   and not expired (else 401 `UNAUTHENTICATED`), the project the service account's
//!   (else 404), the message well formed (a `token` or `topic`, every `data` value a
//!   string: else 400 `INVALID_ARGUMENT`). Then it answers what the test scripted for
//!   that token ([`FcmPeer::script`]), in FCM's documented error format, or success with
//!   a message name.
//!
//! ```no_run
//! # async fn demo() {
//! use nets_tests::fcm::{FcmPeer, Outcome};
//!
//! let peer = FcmPeer::start().await;
//! peer.script("dead-token", [Outcome::Unregistered]);
//! peer.script("busy-token", [Outcome::RateLimited { retry_after_secs: 1 }, Outcome::Success]);
//! let json = peer.service_account_json(); // FIREBASE_CONFIG, pointing at the peer
//! # let _ = json; }
//! ```

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The test service account's private key (a throwaway, see `tests/fixtures/push/`).
pub const TEST_PRIVATE_KEY: &str = include_str!("../fixtures/push/test-service-account.key.pem");
/// Its public key, which the peer verifies assertions with.
pub const TEST_PUBLIC_KEY: &str = include_str!("../fixtures/push/test-service-account.pub.pem");
/// A key that is not the service account's (forged assertions).
pub const OTHER_PRIVATE_KEY: &str = include_str!("../fixtures/push/other.key.pem");
/// The test service account's project.
pub const PROJECT_ID: &str = "nets-test-project";
/// The test service account's e-mail (the assertion's `iss`).
pub const CLIENT_EMAIL: &str = "push@nets-test-project.iam.gserviceaccount.com";
/// The scope FCM HTTP v1 requires.
pub const FCM_SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

/// What the send endpoint answers for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200 with a message name.
    Success,
    /// 404 `NOT_FOUND`, `errorCode: UNREGISTERED`.
    Unregistered,
    /// 400 `INVALID_ARGUMENT` naming `message.token`.
    InvalidToken,
    /// 403 `PERMISSION_DENIED`, `errorCode: SENDER_ID_MISMATCH`.
    SenderIdMismatch,
    /// 429 `RESOURCE_EXHAUSTED`, `errorCode: QUOTA_EXCEEDED`, with `Retry-After`.
    RateLimited {
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
    /// 503 `UNAVAILABLE`.
    Unavailable,
    /// 500 `INTERNAL`.
    Internal,
    /// 401 `UNAUTHENTICATED`, `errorCode: THIRD_PARTY_AUTH_ERROR` (APNs credentials).
    ThirdPartyAuth,
    /// Success, after this long (past the client's timeout, say).
    Slow(Duration),
}

/// One message the send endpoint received (whatever it answered).
#[derive(Debug, Clone)]
pub struct Received {
    /// `message.token`, or `topic:<name>`.
    pub target: String,
    /// The whole request body.
    pub body: Value,
    /// What was answered.
    pub outcome: Outcome,
}

struct Peer {
    token_uri: String,
    public_key: DecodingKey,
    token_lifetime: Mutex<u64>,
    token_delay: Mutex<Duration>,
    issued: Mutex<HashMap<String, Instant>>,
    token_requests: AtomicU64,
    refused_assertions: AtomicU64,
    scripts: Mutex<HashMap<String, VecDeque<Outcome>>>,
    received: Mutex<Vec<Received>>,
    next_id: AtomicU64,
}

/// The running peer; stops when dropped.
pub struct FcmPeer {
    /// `http://127.0.0.1:<port>`: `NETS_CORE_FCM_BASE_URL`.
    pub base: String,
    /// `<base>/token`: the service account's `token_uri`.
    pub token_uri: String,
    peer: Arc<Peer>,
    task: JoinHandle<()>,
}

impl Drop for FcmPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FcmPeer {
    /// Starts on a free port; access tokens live an hour until
    /// [`set_token_lifetime`](Self::set_token_lifetime).
    pub async fn start() -> FcmPeer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the FCM peer");
        let addr = listener.local_addr().expect("peer address");
        let base = format!("http://{addr}");
        let token_uri = format!("{base}/token");
        let peer = Arc::new(Peer {
            token_uri: token_uri.clone(),
            public_key: DecodingKey::from_rsa_pem(TEST_PUBLIC_KEY.as_bytes()).expect("the test public key"),
            token_lifetime: Mutex::new(3600),
            token_delay: Mutex::new(Duration::ZERO),
            issued: Mutex::new(HashMap::new()),
            token_requests: AtomicU64::new(0),
            refused_assertions: AtomicU64::new(0),
            scripts: Mutex::new(HashMap::new()),
            received: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
        });
        let app = Router::new()
            .route("/token", post(token))
            .route("/v1/projects/{project}/messages:send", post(send))
            .with_state(peer.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FcmPeer { base, token_uri, peer, task }
    }

    /// A service-account JSON (`FIREBASE_CONFIG`) whose `token_uri` is this peer.
    pub fn service_account_json(&self) -> String {
        self.service_account_json_with(TEST_PRIVATE_KEY, CLIENT_EMAIL)
    }

    /// The same with another key or e-mail (for refused assertions).
    pub fn service_account_json_with(&self, private_key: &str, client_email: &str) -> String {
        json!({
            "type": "service_account",
            "project_id": PROJECT_ID,
            "private_key_id": "test-key-1",
            "private_key": private_key,
            "client_email": client_email,
            "token_uri": self.token_uri,
        })
        .to_string()
    }

    /// Access tokens issued from now on live `secs` seconds.
    pub fn set_token_lifetime(&self, secs: u64) {
        *lock(&self.peer.token_lifetime) = secs;
    }

    /// The token endpoint answers after `delay` (to hold concurrent senders on one fetch).
    pub fn set_token_delay(&self, delay: Duration) {
        *lock(&self.peer.token_delay) = delay;
    }

    /// What the send endpoint answers for `token`, one outcome per message in order; the
    /// last one repeats. Unscripted tokens succeed.
    pub fn script(&self, token: &str, outcomes: impl IntoIterator<Item = Outcome>) {
        lock(&self.peer.scripts).insert(token.to_owned(), outcomes.into_iter().collect());
    }

    /// Forgets every access token issued (as if revoked): the next send with one is a 401.
    pub fn forget_issued_tokens(&self) {
        lock(&self.peer.issued).clear();
    }

    /// Token requests received (valid or not).
    pub fn token_requests(&self) -> u64 {
        self.peer.token_requests.load(Ordering::SeqCst)
    }

    /// Assertions refused.
    pub fn refused_assertions(&self) -> u64 {
        self.peer.refused_assertions.load(Ordering::SeqCst)
    }

    /// Access tokens issued.
    pub fn issued_tokens(&self) -> usize {
        lock(&self.peer.issued).len()
    }

    /// Every message received, in order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.peer.received).clone()
    }

    /// Messages accepted (answered with a message name) for `target`.
    pub fn delivered(&self, target: &str) -> usize {
        lock(&self.peer.received)
            .iter()
            .filter(|r| r.target == target && matches!(r.outcome, Outcome::Success | Outcome::Slow(_)))
            .count()
    }

    /// Messages received for `target`, whatever the answer.
    pub fn attempts(&self, target: &str) -> usize {
        lock(&self.peer.received).iter().filter(|r| r.target == target).count()
    }
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    assertion: String,
}

#[derive(Deserialize)]
struct AssertionClaims {
    scope: String,
    iat: u64,
    exp: u64,
}

fn oauth_error(error: &str, description: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error, "error_description": description}))).into_response()
}

async fn token(State(peer): State<Arc<Peer>>, axum::Form(form): axum::Form<TokenForm>) -> Response {
    peer.token_requests.fetch_add(1, Ordering::SeqCst);
    let delay = *lock(&peer.token_delay);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if form.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return oauth_error("unsupported_grant_type", "only the JWT-bearer grant");
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[&peer.token_uri]);
    validation.set_issuer(&[CLIENT_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    validation.leeway = 0;
    let claims = match jsonwebtoken::decode::<AssertionClaims>(&form.assertion, &peer.public_key, &validation) {
        Ok(data) => data.claims,
        Err(e) => {
            peer.refused_assertions.fetch_add(1, Ordering::SeqCst);
            return oauth_error("invalid_grant", &format!("assertion refused: {e}"));
        }
    };
    if !claims.scope.split(' ').any(|s| s == FCM_SCOPE) || claims.exp.saturating_sub(claims.iat) > 3600 {
        peer.refused_assertions.fetch_add(1, Ordering::SeqCst);
        return oauth_error("invalid_scope", "the FCM scope, for at most an hour");
    }
    let lifetime = *lock(&peer.token_lifetime);
    let access = format!("peer-token-{}", uuid::Uuid::new_v4().simple());
    lock(&peer.issued).insert(access.clone(), Instant::now() + Duration::from_secs(lifetime));
    axum::Json(json!({"access_token": access, "expires_in": lifetime, "token_type": "Bearer"})).into_response()
}

fn fcm_error(status: StatusCode, grpc: &str, message: &str, details: Value) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message, "status": grpc, "details": details}});
    (status, axum::Json(body)).into_response()
}

fn fcm_code(code: &str) -> Value {
    json!([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}])
}

async fn send(
    State(peer): State<Arc<Peer>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let bearer =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let valid = bearer.is_some_and(|t| lock(&peer.issued).get(t).is_some_and(|exp| Instant::now() < *exp));
    if !valid {
        return fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
            json!([]),
        );
    }
    if project != PROJECT_ID {
        return fcm_error(StatusCode::NOT_FOUND, "NOT_FOUND", "Requested entity was not found.", json!([]));
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return fcm_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                &format!("Invalid JSON payload: {e}"),
                json!([]),
            );
        }
    };
    let message = &body["message"];
    let invalid = |why: &str| {
        fcm_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            why,
            json!([{"@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "message", "description": why}]}]),
        )
    };
    let target = match (message["token"].as_str(), message["topic"].as_str()) {
        (Some(t), None) if !t.is_empty() => t.to_owned(),
        (None, Some(t)) if !t.is_empty() => format!("topic:{t}"),
        _ => return invalid("exactly one of message.token and message.topic is required"),
    };
    if let Some(data) = message.get("data") {
        let Some(data) = data.as_object() else { return invalid("message.data must be a map") };
        if data.values().any(|v| !v.is_string()) {
            return invalid("message.data values must be strings");
        }
    }
    if let Some(n) = message.get("notification")
        && !(n["title"].is_string() || n["body"].is_string())
    {
        return invalid("message.notification needs a title or a body");
    }
    let outcome = {
        let mut scripts = lock(&peer.scripts);
        match scripts.get_mut(&target) {
            Some(queue) if queue.len() > 1 => queue.pop_front().unwrap_or(Outcome::Success),
            Some(queue) => queue.front().cloned().unwrap_or(Outcome::Success),
            None => Outcome::Success,
        }
    };
    lock(&peer.received).push(Received { target: target.clone(), body: body.clone(), outcome: outcome.clone() });
    let ok = |peer: &Peer| {
        let id = peer.next_id.fetch_add(1, Ordering::SeqCst);
        axum::Json(json!({"name": format!("projects/{PROJECT_ID}/messages/{id}")})).into_response()
    };
    match outcome {
        Outcome::Success => ok(&peer),
        Outcome::Slow(delay) => {
            tokio::time::sleep(delay).await;
            ok(&peer)
        }
        Outcome::Unregistered => {
            fcm_error(StatusCode::NOT_FOUND, "NOT_FOUND", "Requested entity was not found.", fcm_code("UNREGISTERED"))
        }
        Outcome::InvalidToken => {
            let mut details = fcm_code("INVALID_ARGUMENT");
            if let Some(list) = details.as_array_mut() {
                list.push(json!({"@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}]}));
            }
            fcm_error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token",
                details,
            )
        }
        Outcome::SenderIdMismatch => {
            fcm_error(StatusCode::FORBIDDEN, "PERMISSION_DENIED", "SenderId mismatch", fcm_code("SENDER_ID_MISMATCH"))
        }
        Outcome::RateLimited { retry_after_secs } => {
            let mut response = fcm_error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded.",
                fcm_code("QUOTA_EXCEEDED"),
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
        Outcome::Unavailable => fcm_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "The service is currently unavailable.",
            fcm_code("UNAVAILABLE"),
        ),
        Outcome::Internal => fcm_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "Internal error encountered.",
            fcm_code("INTERNAL"),
        ),
        Outcome::ThirdPartyAuth => fcm_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Auth error from APNS or Web Push Service",
            fcm_code("THIRD_PARTY_AUTH_ERROR"),
        ),
    }
}
