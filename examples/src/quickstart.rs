//! The quickstart app: a handful of endpoints that show every parameter type, a method
//! guard, a private endpoint, a model lookup with ownership, and a file upload.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::http::request::Parts;
use axum::response::Html;
use chrono::{DateTime, NaiveDate, Utc};
use nets_runtime::State;
use nets_runtime::auth::{AuthUser, Authenticator, MaybeAsync, StaticBearer, bearer_token};
use nets_runtime::oauth::{BearerAuth, OAuth};
use nets_runtime::prelude::*;
use nets_runtime::realtime::{Frame, Response, WebSocketUpgrade};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;
use validator::Validate;

/// Answers `pong`. Public, GET only: any other method gets a 405 with `Allow: GET, HEAD`.
#[request_handler(path = "ping/", method = GET, public, tags = ["quickstart"])]
pub async fn ping() -> ApiResult<&'static str> {
    Ok("pong")
}

/// Echoes every parameter type nets coerces, as the handler received it.
#[request_handler(path = "echo/", methods = [GET, POST], public, tags = ["quickstart"])]
#[allow(clippy::too_many_arguments)]
pub async fn echo(
    #[param(validate(length(min = 1, max = 40)))] name: String,
    #[param(validate(range(min = 0, max = 150)))] age: i64,
    #[param(default = 1.0)] ratio: f64,
    #[param(default = false)] active: bool,
    #[param(default = Vec::new())] tags: Vec<String>,
    #[param(default = Value::Null)] meta: Value,
    born: Option<NaiveDate>,
    at: Option<DateTime<Utc>>,
    email: Option<Email>,
    id: Option<Uuid>,
    #[param(validate(regex = "^[A-Z]{2}$"))] country: Option<String>,
    settings: Option<Map<String, Value>>,
) -> ApiResult<Value> {
    Ok(json!({
        "name": name, "age": age, "ratio": ratio, "active": active, "tags": tags,
        "meta": meta, "born": born, "at": at, "email": email, "id": id,
        "country": country, "settings": settings,
    }))
}

/// A structured body: the whole JSON body (or its `note` member) is one validated struct.
#[derive(Debug, Deserialize, Serialize, Validate, utoipa::ToSchema)]
pub struct NewNote {
    #[validate(length(min = 1, max = 200, message = "text must be 1 to 200 characters"))]
    pub text: String,
    #[serde(default)]
    pub pinned: bool,
}

/// A note kept in memory by the example.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub id: i64,
    pub user_id: i64,
    pub text: String,
    pub pinned: bool,
}

/// The example's storage: notes in memory.
#[derive(Clone, Default)]
pub struct Notes(Arc<RwLock<HashMap<i64, Note>>>);

impl Notes {
    fn insert(&self, user_id: i64, new: NewNote) -> Result<Note, ApiError> {
        let mut notes = self.0.write().map_err(|_| ApiError::internal("notes lock poisoned"))?;
        let id = notes.keys().max().copied().unwrap_or(0) + 1;
        let note = Note { id, user_id, text: new.text, pinned: new.pinned };
        notes.insert(id, note.clone());
        Ok(note)
    }
}

impl NetsModel for Note {
    const TABLE: &'static str = "notes";

    fn owner_id(&self) -> Option<i64> {
        Some(self.user_id)
    }

    /// Notes live in the `Notes` state: `build()` refuses an app without it.
    fn missing(app: &App) -> Option<String> {
        app.state::<Notes>().is_none().then(|| "the `Notes` state".to_owned())
    }

    async fn find_by_index(ctx: &Ctx, _field: &str, value: &str) -> Result<Option<Self>, ApiError> {
        let Ok(id) = value.parse::<i64>() else { return Ok(None) };
        let notes = ctx.state::<Notes>().ok_or_else(|| ApiError::internal("Notes state missing"))?;
        let notes = notes.0.read().map_err(|_| ApiError::internal("notes lock poisoned"))?;
        Ok(notes.get(&id).cloned())
    }
}
// A hand-written model: this makes it a handler argument (the derive does it itself).
nets_runtime::model_argument!(Note);

/// Creates a note for the caller. Private: send `Authorization: Bearer <token>`.
#[request_handler(path = "notes/", method = POST, tags = ["notes"])]
pub async fn create_note(ctx: Ctx, notes: State<Notes>, #[param(body)] note: NewNote) -> ApiResult<Note> {
    let user = ctx.require_user()?;
    notes.insert(user.id, note)
}

/// Shows one of the caller's notes; other users' notes answer 404.
#[request_handler(path = "notes/{id}/", method = GET, model = Note, tags = ["notes"])]
pub async fn show_note(note: Note) -> ApiResult<Note> {
    Ok(note)
}

/// What an upload handler reports back.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadReport {
    pub file_name: Option<String>,
    pub content_type: String,
    pub size: usize,
    pub caption: Option<String>,
}

/// Accepts a PNG or JPEG image (checked from its bytes, not its name).
#[request_handler(path = "avatar/", method = POST, tags = ["quickstart"])]
pub async fn upload_avatar(
    #[param(filetypes = ["image/png", "image/jpeg"])] image: UploadedFile,
    caption: Option<String>,
) -> ApiResult<UploadReport> {
    Ok(UploadReport {
        file_name: image.file_name().map(str::to_owned),
        content_type: image.content_type().to_owned(),
        size: image.len(),
        caption,
    })
}

/// A frame `/ws/echo/` forwards instead of echoing.
#[derive(Debug, Deserialize)]
struct Forward {
    to_user: i64,
    text: String,
}

/// A WebSocket (private): echoes each text frame back; a frame `{"to_user": ID, "text":
/// ".."}` goes to every socket of that user instead, on whichever instance holds it, as
/// `{"from": ID, "text": ".."}`.
#[request_handler(path = "ws/echo/", method = GET, tags = ["realtime"])]
pub async fn ws_echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|mut socket| async move {
        while let Some(frame) = socket.recv().await {
            let Frame::Text(text) = frame else { continue };
            let sent = match serde_json::from_str::<Forward>(&text) {
                Ok(forward) => {
                    let from = socket.user().map(|u| u.id);
                    let message = json!({"from": from, "text": forward.text});
                    match socket.channels().send_to_user(forward.to_user, message).await {
                        Ok(()) => Ok(()),
                        // The layer is down: say so, and keep the socket.
                        Err(e) => socket.send_json(&json!({"error": e.to_string()})).await,
                    }
                }
                Err(_) => socket.send(text).await,
            };
            if sent.is_err() {
                break;
            }
        }
    })
}

/// A page to try `/ws/echo/` in a browser (with a ticket from `/ws/ticket/`).
#[request_handler(path = "ws/", method = GET, public, tags = ["realtime"])]
pub async fn ws_page() -> Html<&'static str> {
    Html(include_str!("ws_echo.html"))
}

/// The example's demo user token (printed at startup), accepted in DEBUG only.
pub const DEMO_TOKEN: &str = "quickstart-demo-token";

/// The demo token's account, created in DEBUG only: an account of its own, so the demo
/// token never reads or writes a real user's data.
pub const DEMO_EMAIL: &str = "demo@quickstart.invalid";

/// The example's `SECRET_KEY` when none is configured, so that an application created
/// with `quickstart createapp` is recognised by the server (another process). A real
/// deployment sets its own `SECRET_KEY`; without one nets refuses to start outside DEBUG.
pub const DEVELOPMENT_SECRET_KEY: &str = "quickstart-development-key-not-for-production";

/// The demo token (in DEBUG), else OAuth2 access tokens.
struct DemoOrOAuth {
    demo: Option<StaticBearer>,
    oauth: BearerAuth,
}

impl Authenticator for DemoOrOAuth {
    fn authenticate<'a>(&'a self, request: &'a Parts, app: &'a App) -> MaybeAsync<'a, AuthResult> {
        match &self.demo {
            Some(demo) if app.settings().debug && bearer_token(request) == Some(DEMO_TOKEN) => {
                demo.authenticate(request, app)
            }
            _ => self.oauth.authenticate(request, app),
        }
    }
}

type AuthResult = Result<Option<AuthUser>, ApiError>;

/// The demo account's id, creating the account (DEBUG only).
async fn demo_user(db: &nets_runtime::db::Db) -> Result<i64, sqlx::Error> {
    use nets_runtime::db::Db;
    let insert = "INSERT INTO nets_user (email, email_verified) VALUES ($1, TRUE) ON CONFLICT DO NOTHING";
    let select = "SELECT id FROM nets_user WHERE lower(email) = $1";
    match db {
        Db::Sqlite(pool) => {
            sqlx::query(insert).bind(DEMO_EMAIL).execute(pool).await?;
            sqlx::query_scalar(select).bind(DEMO_EMAIL).fetch_one(pool).await
        }
        Db::Postgres(pool) => {
            sqlx::query(insert).bind(DEMO_EMAIL).execute(pool).await?;
            sqlx::query_scalar(select).bind(DEMO_EMAIL).fetch_one(pool).await
        }
    }
}

/// The quickstart's own part of the app, on top of what [`Stack`] installed (the
/// database, OAuth2 with `/o/token/` and `/o/revoke_token/`, the account endpoints, the
/// mailer, permissions): this module's endpoints, the notes they keep, and in DEBUG the
/// demo token in front of OAuth2 bearer tokens.
///
/// [`Stack`]: nets_runtime::stack::Stack
pub async fn customise(app: AppBuilder) -> Result<AppBuilder, nets_runtime::cli::BoxError> {
    let oauth = app.get_state::<OAuth>().cloned().ok_or("the quickstart needs OAuth installed")?;
    let demo = match app.settings().debug {
        true => {
            let db = app.get_state::<nets_runtime::db::Db>().ok_or("the quickstart needs a database")?;
            tracing::info!("DEBUG: private endpoints accept -H 'Authorization: Bearer {DEMO_TOKEN}'");
            Some(StaticBearer::new().token(DEMO_TOKEN, AuthUser::new(demo_user(db).await?, DEMO_EMAIL)))
        }
        false => None,
    };
    Ok(app
        .authenticator(DemoOrOAuth { demo, oauth: oauth.bearer() })
        .state(Notes::default())
        .routes(build_urlpatterns!(crate::quickstart)?))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    /// Sends one request; `(status, body)`.
    async fn call(router: &axum::Router, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {DEMO_TOKEN}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn quickstart_router(debug: bool) -> axum::Router {
        let file = std::env::temp_dir().join(format!("nets-quickstart-{}.db", Uuid::new_v4().simple()));
        let mut settings = Settings::default();
        settings.database_url = format!("sqlite://{}?mode=rwc", file.display());
        settings.debug = debug;
        settings.secret_key = Some(DEVELOPMENT_SECRET_KEY.into());
        // Outside DEBUG the stack needs a real mail backend: files in a temp directory.
        settings.email_backend = "file".into();
        settings.email_file_path = std::env::temp_dir().join("nets-quickstart-mail").display().to_string();
        let stack = nets_runtime::stack::Stack::from_settings(settings).await.unwrap();
        customise(stack.app()).await.unwrap().build().unwrap().router()
    }

    #[tokio::test]
    async fn the_echo_socket_echoes_and_forwards_to_users() {
        use nets_tests::ws;
        let server = nets_tests::TestServer::start(quickstart_router(true).await).await;
        let wait = std::time::Duration::from_secs(5);
        let mut socket = ws::open(server.addr, "/ws/echo/", Some(DEMO_TOKEN)).await;
        ws::send(&mut socket, "hello").await;
        assert_eq!(ws::text(&mut socket, wait).await, "hello");
        // Forwarded through `send_to_user`: here to the demo user's own sockets.
        let profile = server.send(server.get("/getProfile/").bearer_auth(DEMO_TOKEN)).await;
        let me = profile.data()["id"].as_i64().expect("id");
        let mut other = ws::open(server.addr, "/ws/echo/", Some(DEMO_TOKEN)).await;
        ws::send(&mut socket, &json!({"to_user": me, "text": "hi"}).to_string()).await;
        for s in [&mut socket, &mut other] {
            let got: Value = serde_json::from_str(&ws::text(s, wait).await).expect("JSON");
            assert_eq!(got, json!({"from": me, "text": "hi"}));
        }
        // Private: no credentials, no socket.
        assert_eq!(ws::connect(server.addr, "/ws/echo/", None).await.expect_err("anonymous").status, 401);
        let page = server.send(server.get("/ws/")).await;
        assert_eq!(page.status, 200);
        assert!(page.text().contains("/ws/ticket/"), "the page asks for a ticket");
    }

    #[tokio::test]
    async fn the_demo_token_is_an_account_of_its_own_and_only_works_in_debug() {
        let router = quickstart_router(true).await;
        let (status, created) = call(&router, "POST", "/notes/", Some(json!({"text": "demo"}))).await;
        assert_eq!(status, 200, "{created}");
        assert_eq!(call(&router, "GET", "/notes/1/", None).await.0, 200);
        // The token the app accepts works on the account endpoints too: one authenticator.
        let (status, profile) = call(&router, "GET", "/getProfile/", None).await;
        assert_eq!(status, 200, "{profile}");
        assert_eq!(profile["data"]["email"], json!(DEMO_EMAIL));
        assert_eq!(created["data"]["user_id"], profile["data"]["id"]);

        let production = quickstart_router(false).await;
        assert_eq!(call(&production, "POST", "/notes/", Some(json!({"text": "demo"}))).await.0, 401);
        assert_eq!(call(&production, "GET", "/getProfile/", None).await.0, 401);
    }
}
