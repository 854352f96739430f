//! WebSocket endpoints and the channel layer, with a real WebSocket client
//! (tokio-tungstenite) against real servers: header and ticket authentication, every
//! refusal before the upgrade as the JSON envelope, revocation closing live sockets,
//! the per-socket limits (slow reader, oversize message, idle peer), and
//! `send_to_user` / `group_send` — across two instances over Redis when
//! `NETS_TEST_REDIS_URL` is set (on PostgreSQL with `NETS_TEST_DATABASE_URL`).

use std::time::Duration;

use nets_runtime::accounts::Accounts;
use nets_runtime::cache::Cache;
use nets_runtime::db::Db;
use nets_runtime::oauth::{ClientType, NewApplication, OAuth};
use nets_runtime::prelude::*;
use nets_runtime::push::{Notification, Push};
use nets_runtime::realtime::{Channels, Delivery, Frame, Realtime, Response, WebSocketUpgrade};
use nets_runtime::users::UserTable;
use nets_tests::TestServer;
use nets_tests::db::{TestDb, create_user, test_db};
use nets_tests::ws::{self, Next};
use serde_json::{Value, json};

/// Echoes text; `join:<group>` joins a group, `group:<group>:<text>` sends to it,
/// `user:<id>:<text>` sends to a user, `flood:<group>:<n>` sends n frames to a group.
#[request_handler(path = "ws/echo/", method = GET)]
async fn echo(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|mut socket| async move {
        while let Some(frame) = socket.recv().await {
            let Frame::Text(text) = frame else { continue };
            let channels = socket.channels().clone();
            let parts: Vec<&str> = text.splitn(3, ':').collect();
            let done = match parts.as_slice() {
                ["join", group] => socket.join(group).map_err(|e| e.to_string()),
                ["group", group, body] => channels.group_send(group, *body).await.map_err(|e| e.to_string()),
                ["user", id, body] => {
                    let id = id.parse().unwrap_or_default();
                    channels.send_to_user(id, *body).await.map_err(|e| e.to_string())
                }
                ["flood", group, n] => {
                    for i in 0..n.parse::<usize>().unwrap_or(0) {
                        let _ = channels.group_send(group, format!("{i:08}").repeat(1000)).await;
                    }
                    Ok(())
                }
                _ => socket.send(text.clone()).await.map_err(|e| e.to_string()),
            };
            let reply = match done {
                Ok(()) if parts.len() > 1 => format!("ok {}", parts[0]),
                Ok(()) => continue,
                Err(e) => format!("error {e}"),
            };
            if socket.send(reply).await.is_err() {
                break;
            }
        }
    })
}

/// Anyone, with or without credentials.
#[request_handler(path = "ws/public/", method = GET, public)]
async fn public_socket(ws: WebSocketUpgrade) -> Response {
    let who = ws.user().map_or_else(|| "anonymous".to_owned(), |u| u.id.to_string());
    ws.on_upgrade(move |socket| async move {
        let _ = socket.send(who).await;
    })
}

/// Moderators only (the default checker lets superusers alone through).
#[request_handler(path = "ws/moderation/", method = GET, can_do = "chat.moderate", perm_required)]
async fn moderation(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(|_| async {})
}

/// A room: a required integer parameter from the query string.
#[request_handler(path = "ws/room/", method = GET)]
async fn room(ws: WebSocketUpgrade, number: i64) -> Response {
    ws.on_upgrade(move |socket| async move {
        let _ = socket.send(format!("room {number}")).await;
    })
}

/// Inbox `n` belongs to user `n`.
struct Inbox {
    owner: i64,
}

impl NetsModel for Inbox {
    const TABLE: &'static str = "inboxes";
    fn owner_id(&self) -> Option<i64> {
        Some(self.owner)
    }
    async fn find_by_index(_: &Ctx, _: &str, value: &str) -> Result<Option<Self>, ApiError> {
        Ok(value.parse().ok().map(|owner| Inbox { owner }))
    }
}
nets_runtime::model_argument!(Inbox);

/// A user's own inbox; someone else's is 404 before any upgrade.
#[request_handler(path = "ws/inbox/{id}/", method = GET, model = Inbox)]
async fn inbox(ws: WebSocketUpgrade, inbox: Inbox) -> Response {
    ws.on_upgrade(move |socket| async move {
        let _ = socket.send(format!("inbox of {}", inbox.owner)).await;
    })
}

const BASE: &str = "SECRET_KEY = 'realtime test secret-xxxxxxxxxxxxxx'\nDEBUG = true\n\
                    NETS_CORE_WS_REVOCATION_CHECK_MS = 100";
const CODE_WAIT: Duration = Duration::from_secs(5);

/// One server instance.
struct Instance {
    oauth: OAuth,
    channels: Channels,
    server: TestServer,
}

async fn instance(db: &TestDb, extra: &str) -> Instance {
    instance_with(db, extra, false).await
}

/// An instance whose layer falls back to push notifications (console transport: DEBUG).
async fn instance_with(db: &TestDb, extra: &str, push: bool) -> Instance {
    let (app, oauth, channels) = app(db, extra, push).await;
    Instance { oauth, channels, server: TestServer::start(app.router()).await }
}

/// The app of an instance, not served yet, with its OAuth and channels.
async fn app(db: &TestDb, extra: &str, push: bool) -> (App, OAuth, Channels) {
    let settings = nets_tests::settings(&format!("{BASE}\n{extra}"));
    let oauth = OAuth::from_settings(&settings, &db.db).await.unwrap_or_else(|e| panic!("OAuth: {e}"));
    let users = UserTable::load(&db.db, &settings).await.expect("user table");
    let cache = Cache::memory(10_000);
    let accounts = Accounts::new(oauth.clone(), users, cache.clone(), &settings).expect("accounts");
    let mut realtime = Realtime::from_settings(&settings, cache).await.unwrap_or_else(|e| panic!("Realtime: {e}"));
    if push {
        let push = Push::builder(&settings).database(db.db.clone()).build().expect("push");
        realtime = realtime.with_push(push);
    }
    let channels = realtime.channels().clone();
    let app = App::builder(settings)
        .database(db.db.clone())
        .install(oauth.clone())
        .install(accounts)
        .install(realtime)
        .routes(build_urlpatterns!().expect("routes"))
        .build()
        .unwrap_or_else(|e| panic!("app: {e}"));
    (app, oauth, channels)
}

/// Users with tokens on one database.
struct World {
    db: TestDb,
    client: NewApplication,
}

impl World {
    async fn new(first: &Instance, db: TestDb) -> World {
        let client = first.oauth.create_application("app", ClientType::Confidential).await.expect("client");
        World { db, client }
    }

    /// A new user and an access token of theirs.
    async fn user(&self, node: &Instance, email: &str) -> (i64, String) {
        let id = create_user(&self.db, email).await;
        let tokens = node.oauth.generate_tokens(id, self.client.id, None).await.expect("tokens");
        (id, tokens.access_token)
    }
}

impl Instance {
    async fn ticket(&self, token: &str) -> String {
        let reply = self.server.send(self.server.post("/ws/ticket/").bearer_auth(token)).await;
        reply.data()["ticket"].as_str().expect("a ticket").to_owned()
    }

    async fn logout(&self, token: &str) {
        let reply = self.server.send(self.server.post_json("/logout/", json!({})).bearer_auth(token)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }

    /// Waits until this instance holds `sockets` live sockets (closing is asynchronous).
    async fn settles_at(&self, sockets: usize) {
        let deadline = tokio::time::Instant::now() + CODE_WAIT;
        while self.channels.stats().sockets != sockets {
            assert!(
                tokio::time::Instant::now() < deadline,
                "stats stay at {:?}, expected {sockets}",
                self.channels.stats()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn one(extra: &str) -> (Instance, World) {
    let db = test_db().await;
    let node = instance(&db, extra).await;
    let world = World::new(&node, db).await;
    (node, world)
}

#[tokio::test]
async fn a_bearer_header_opens_a_private_socket() {
    let (node, world) = one("").await;
    let (_, token) = world.user(&node, "ada@example.com").await;
    let mut socket = ws::open(node.server.addr, "/ws/echo/", Some(&token)).await;
    ws::send(&mut socket, "hello").await;
    assert_eq!(ws::text(&mut socket, CODE_WAIT).await, "hello");
}

#[tokio::test]
async fn refusals_come_before_the_upgrade_as_the_envelope() {
    let (node, world) = one("").await;
    let (ada, token) = world.user(&node, "ada@example.com").await;
    let addr = node.server.addr;

    let anonymous = ws::connect(addr, "/ws/echo/", None).await.expect_err("anonymous");
    assert_eq!((anonymous.status, &anonymous.json["res"]), (401, &json!(0)), "{:?}", anonymous.json);

    let forged = ws::connect(addr, "/ws/echo/", Some(&"0".repeat(64))).await.expect_err("unknown token");
    assert_eq!(forged.status, 401);

    let denied = ws::connect(addr, "/ws/moderation/", Some(&token)).await.expect_err("no permission");
    assert_eq!((denied.status, &denied.json["message"]), (403, &json!("permission denied")));

    let theirs = ws::connect(addr, &format!("/ws/inbox/{}/", ada + 1000), Some(&token)).await.expect_err("not theirs");
    assert_eq!((theirs.status, &theirs.json["message"]), (404, &json!("not found")));
    let mut mine = ws::open(addr, &format!("/ws/inbox/{ada}/"), Some(&token)).await;
    assert_eq!(ws::text(&mut mine, CODE_WAIT).await, format!("inbox of {ada}"));

    let missing = ws::connect(addr, "/ws/room/", Some(&token)).await.expect_err("missing parameter");
    assert_eq!((missing.status, &missing.json["message"]), (400, &json!("Missing params: number")));
    let bad = ws::connect(addr, "/ws/room/?number=two", Some(&token)).await.expect_err("bad parameter");
    assert_eq!(bad.status, 400);
    let mut room = ws::open(addr, "/ws/room/?number=7", Some(&token)).await;
    assert_eq!(ws::text(&mut room, CODE_WAIT).await, "room 7");

    // A token in the URL is refused even when it is valid: URLs end up in logs.
    let in_url = ws::connect(addr, &format!("/ws/public/?access_token={token}"), None).await.expect_err("URL token");
    assert_eq!(in_url.status, 400);
    assert!(in_url.json["errors"]["access_token"].is_array(), "{}", in_url.json);

    // A plain GET (no upgrade headers) gets the envelope too, never a half-open socket.
    let plain = node.server.send(node.server.get("/ws/echo/").bearer_auth(&token)).await;
    assert_eq!(plain.json["res"], json!(0), "{}", plain.text());
    assert!(plain.status == 400 || plain.status == 426, "{}", plain.status);
    // Other methods: 405, as for any endpoint.
    assert_eq!(node.server.send(node.server.post("/ws/echo/").bearer_auth(&token)).await.status, 405);
}

#[tokio::test]
async fn public_sockets_take_anyone_and_know_who_is_there() {
    let (node, world) = one("").await;
    let (ada, token) = world.user(&node, "ada@example.com").await;
    let mut anonymous = ws::open(node.server.addr, "/ws/public/", None).await;
    assert_eq!(ws::text(&mut anonymous, CODE_WAIT).await, "anonymous");
    let mut known = ws::open(node.server.addr, "/ws/public/", Some(&token)).await;
    assert_eq!(ws::text(&mut known, CODE_WAIT).await, ada.to_string());
}

#[tokio::test]
async fn tickets_are_single_use_bound_to_their_user_and_short_lived() {
    let (node, world) = one("NETS_CORE_WS_TICKET_SECONDS = 1").await;
    let (ada, token) = world.user(&node, "ada@example.com").await;
    let addr = node.server.addr;

    // Issuing one needs credentials.
    assert_eq!(node.server.send(node.server.post("/ws/ticket/")).await.status, 401);

    let ticket = node.ticket(&token).await;
    assert_eq!(ticket.len(), 64);
    let mut socket = ws::open(addr, &format!("/ws/public/?ticket={ticket}"), None).await;
    assert_eq!(ws::text(&mut socket, CODE_WAIT).await, ada.to_string(), "the ticket's user");

    let reused = ws::connect(addr, &format!("/ws/echo/?ticket={ticket}"), None).await.expect_err("reuse");
    assert_eq!((reused.status, &reused.json["code"]), (401, &json!("invalid_ticket")), "{}", reused.json);

    let late = node.ticket(&token).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let expired = ws::connect(addr, &format!("/ws/echo/?ticket={late}"), None).await.expect_err("expired");
    assert_eq!(expired.status, 401);

    let forged = ws::connect(addr, &format!("/ws/echo/?ticket={}", "a".repeat(64)), None).await.expect_err("forged");
    assert_eq!(forged.status, 401);

    // A ticket dies with the token that asked for it.
    let orphan = node.ticket(&token).await;
    node.logout(&token).await;
    let after_logout = ws::connect(addr, &format!("/ws/echo/?ticket={orphan}"), None).await.expect_err("logged out");
    assert_eq!(after_logout.status, 401);
}

#[tokio::test]
async fn a_logout_closes_the_tokens_sockets_and_no_other() {
    let (node, world) = one("").await;
    let (_, token) = world.user(&node, "ada@example.com").await;
    let (_, bob) = world.user(&node, "bob@example.com").await;
    let mut by_header = ws::open(node.server.addr, "/ws/echo/", Some(&token)).await;
    let ticket = node.ticket(&token).await;
    let mut by_ticket = ws::open(node.server.addr, &format!("/ws/echo/?ticket={ticket}"), None).await;
    let mut other = ws::open(node.server.addr, "/ws/echo/", Some(&bob)).await;
    node.settles_at(3).await;

    node.logout(&token).await;
    let closed = ws::close_code(&mut by_header, Duration::from_secs(2)).await;
    assert_eq!(closed, Some((Some(4401), "token revoked".to_owned())));
    let closed = ws::close_code(&mut by_ticket, Duration::from_secs(2)).await;
    assert_eq!(closed, Some((Some(4401), "token revoked".to_owned())));
    ws::send(&mut other, "still here").await;
    assert_eq!(ws::text(&mut other, CODE_WAIT).await, "still here");
    node.settles_at(1).await;
}

#[tokio::test]
async fn a_socket_ends_when_its_token_expires() {
    let (node, world) = one("").await;
    let id = create_user(&world.db, "ada@example.com").await;
    let tokens = node.oauth.generate_tokens(id, world.client.id, None).await.expect("tokens");
    // Two seconds left on the token.
    let sql = "UPDATE nets_access_token SET expires = $1 WHERE token_digest = $2";
    let expires = chrono::Utc::now() + chrono::Duration::seconds(2);
    let digest = node.oauth.token_digest(&tokens.access_token);
    match &*world.db {
        Db::Sqlite(pool) => sqlx::query(sql).bind(expires).bind(&digest).execute(pool).await.map(drop),
        Db::Postgres(pool) => sqlx::query(sql).bind(expires).bind(&digest).execute(pool).await.map(drop),
    }
    .expect("shorten the token");
    let mut socket = ws::open(node.server.addr, "/ws/echo/", Some(&tokens.access_token)).await;
    let closed = ws::close_code(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(closed, Some((Some(4401), "token expired".to_owned())));
}

#[tokio::test]
async fn groups_and_users_reach_every_socket_on_one_instance() {
    let (node, world) = one("").await;
    let (ada, ada_token) = world.user(&node, "ada@example.com").await;
    let (_, bob_token) = world.user(&node, "bob@example.com").await;
    let addr = node.server.addr;
    let mut ada_phone = ws::open(addr, "/ws/echo/", Some(&ada_token)).await;
    let mut ada_laptop = ws::open(addr, "/ws/echo/", Some(&ada_token)).await;
    let mut bob = ws::open(addr, "/ws/echo/", Some(&bob_token)).await;

    ws::send(&mut bob, &format!("user:{ada}:hi ada")).await;
    assert_eq!(ws::text(&mut bob, CODE_WAIT).await, "ok user");
    assert_eq!(ws::text(&mut ada_phone, CODE_WAIT).await, "hi ada");
    assert_eq!(ws::text(&mut ada_laptop, CODE_WAIT).await, "hi ada");

    ws::send(&mut ada_phone, "join:room-1").await;
    assert_eq!(ws::text(&mut ada_phone, CODE_WAIT).await, "ok join");
    ws::send(&mut bob, "join:room-1").await;
    assert_eq!(ws::text(&mut bob, CODE_WAIT).await, "ok join");
    node.channels.group_send("room-1", json!({"type": "chat.message", "text": "hello room"})).await.expect("send");
    let expected = json!({"type": "chat.message", "text": "hello room"});
    for socket in [&mut ada_phone, &mut bob] {
        let got: Value = serde_json::from_str(&ws::text(socket, CODE_WAIT).await).expect("JSON");
        assert_eq!(got, expected);
    }
    assert_eq!(ws::next(&mut ada_laptop, Duration::from_millis(300)).await, Next::Silent, "not a member");

    ws::send(&mut bob, "join:bad group!").await;
    assert!(ws::text(&mut bob, CODE_WAIT).await.starts_with("error invalid group name"));
    assert_eq!(node.channels.stats().groups, 1);

    // Abrupt disconnects (no closing handshake) leave nothing behind.
    drop((ada_phone, ada_laptop, bob));
    node.settles_at(0).await;
    assert_eq!(node.channels.stats(), Default::default());
}

#[tokio::test]
async fn users_without_a_live_socket_get_a_push_notification_instead() {
    let db = test_db().await;
    let node = instance_with(&db, "", true).await;
    let world = World::new(&node, db).await;
    let (ada, token) = world.user(&node, "ada@example.com").await;
    let notification = || Notification::new("New message", "from bob");

    let offline = node.channels.send_to_user_or_push(ada, "hello", notification()).await.expect("send");
    let Delivery::Push(queued) = offline else { panic!("expected a push, got {offline:?}") };
    let sql = "SELECT count(*) FROM nets_push_notification WHERE id = $1 AND user_id = $2";
    let stored: i64 = match &*world.db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).bind(queued.notification_id).bind(ada).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).bind(queued.notification_id).bind(ada).fetch_one(pool).await,
    }
    .expect("count");
    assert_eq!(stored, 1, "the notification is stored for the user");

    let mut socket = ws::open(node.server.addr, "/ws/echo/", Some(&token)).await;
    node.settles_at(1).await;
    let online = node.channels.send_to_user_or_push(ada, "hello", notification()).await.expect("send");
    assert!(matches!(online, Delivery::Sockets), "{online:?}");
    assert_eq!(ws::text(&mut socket, CODE_WAIT).await, "hello");

    // Without a push module, an offline user is reported, not silently dropped.
    let (bob, _) = world.user(&node, "bob@example.com").await;
    let (plain, _) = one("").await;
    let offline = plain.channels.send_to_user_or_push(bob, "hello", notification()).await.expect("send");
    assert!(matches!(offline, Delivery::Offline), "{offline:?}");
}

#[tokio::test]
async fn a_slow_reader_is_closed_while_the_others_keep_receiving() {
    // 8 KB frames in bursts smaller than the queue: a reader that keeps up gets every
    // one; a reader that stops fills its kernel buffers, then its queue, and is closed.
    let (node, world) = one("NETS_CORE_WS_SEND_QUEUE = 16\nNETS_CORE_WS_WRITE_TIMEOUT_SECONDS = 1").await;
    let (_, token) = world.user(&node, "ada@example.com").await;
    let addr = node.server.addr;
    let mut slow = ws::open(addr, "/ws/echo/", Some(&token)).await;
    let mut fast = ws::open(addr, "/ws/echo/", Some(&token)).await;
    for socket in [&mut slow, &mut fast] {
        ws::send(socket, "join:feed").await;
        assert_eq!(ws::text(socket, CODE_WAIT).await, "ok join");
    }
    let frames = 2_000;
    let reader = tokio::spawn(async move {
        let mut got = 0;
        while got < frames {
            match ws::next(&mut fast, CODE_WAIT).await {
                Next::Text(text) if text.len() == 8_000 => got += 1,
                Next::Text(_) => {}
                other => panic!("the fast reader got {other:?} after {got} frames"),
            }
        }
        got
    });
    for burst in 0..frames / 8 {
        for i in 0..8 {
            node.channels.group_send("feed", format!("{:08}", burst * 8 + i).repeat(1000)).await.expect("send");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(reader.await.expect("reader"), frames, "the fast reader missed nothing");
    // 16 MB went out: the slow one was dropped (1008 once its queue filled).
    node.settles_at(1).await;
    let ended = ws::close_code(&mut slow, CODE_WAIT).await;
    assert!(ended.is_some(), "the slow reader's socket ended");
}

#[tokio::test]
async fn an_oversize_message_closes_with_1009() {
    let (node, world) = one("NETS_CORE_WS_MAX_MESSAGE_BYTES = 1024").await;
    let (_, token) = world.user(&node, "ada@example.com").await;
    let mut socket = ws::open(node.server.addr, "/ws/echo/", Some(&token)).await;
    ws::send(&mut socket, &"x".repeat(1024)).await;
    assert_eq!(ws::text(&mut socket, CODE_WAIT).await.len(), 1024, "at the limit is fine");
    ws::send(&mut socket, &"x".repeat(1025)).await;
    let (code, reason) = ws::close_code(&mut socket, CODE_WAIT).await.expect("closed");
    assert_eq!(code, Some(1009), "{reason}");
    node.settles_at(0).await;
}

#[tokio::test]
async fn a_silent_peer_is_closed_at_the_idle_timeout() {
    let (node, world) = one("NETS_CORE_WS_PING_SECONDS = 1\nNETS_CORE_WS_IDLE_SECONDS = 2").await;
    let (_, token) = world.user(&node, "ada@example.com").await;
    // A client that reads answers pings (tungstenite does it while reading): it stays.
    let mut alive = ws::open(node.server.addr, "/ws/echo/", Some(&token)).await;
    let reading = tokio::spawn(async move { ws::next(&mut alive, Duration::from_secs(5)).await });
    // One that never reads never answers: closed after two seconds of silence.
    let mut silent = ws::open(node.server.addr, "/ws/echo/", Some(&token)).await;
    node.settles_at(2).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    node.settles_at(1).await;
    assert_eq!(reading.await.expect("reader"), Next::Silent, "pongs kept it open");
    let (code, reason) = ws::close_code(&mut silent, CODE_WAIT).await.expect("closed");
    assert_eq!((code, reason.as_str()), (Some(1001), "idle timeout"));
}

#[tokio::test]
async fn the_openapi_document_lists_websocket_endpoints() {
    let (node, _) = one("").await;
    let doc = node.server.send(node.server.get("/openapi.json")).await.json;
    let op = &doc["paths"]["/ws/echo/"]["get"];
    assert_eq!(op["x-nets-websocket"]["protocol"], json!("websocket"), "{op}");
    assert_eq!(op["x-nets-websocket"]["close_codes"]["4401"], json!("the access token was revoked or expired"));
    assert!(op["responses"]["101"].is_object(), "{op}");
    assert!(op["parameters"].as_array().is_some_and(|p| p.iter().any(|p| p["name"] == json!("ticket"))), "{op}");
    assert!(doc["paths"]["/ws/ticket/"]["post"].is_object());
}

/// The Redis tier's settings (a channel and generation key of the test's own), `None`
/// without `NETS_TEST_REDIS_URL`.
fn redis_settings() -> Option<String> {
    let Ok(url) = std::env::var("NETS_TEST_REDIS_URL") else {
        eprintln!("NETS_TEST_REDIS_URL is not set: the two-instance tests did not run");
        return None;
    };
    let id = uuid::Uuid::new_v4().simple();
    Some(format!(
        "REDIS_URL = '{url}'\nNETS_CORE_WS_REDIS_CHANNEL = 'nets-test:{id}:realtime'\n\
         NETS_CORE_TOKEN_CACHE_REDIS_KEY = 'nets-test:{id}:tokens'\nNETS_CORE_PERMISSIONS_REDIS_KEY = 'nets-test:{id}:perms'"
    ))
}

async fn two(extra: &str) -> Option<(Instance, Instance, World)> {
    let shared = redis_settings()?;
    let db = test_db().await;
    let a = instance(&db, &format!("{shared}\n{extra}")).await;
    let b = instance(&db, &format!("{shared}\n{extra}")).await;
    let world = World::new(&a, db).await;
    Some((a, b, world))
}

#[tokio::test]
async fn a_logout_on_one_instance_closes_the_socket_on_another() {
    let Some((a, b, world)) = two("").await else { return };
    let (_, token) = world.user(&a, "ada@example.com").await;
    let mut on_b = ws::open(b.server.addr, "/ws/echo/", Some(&token)).await;
    b.settles_at(1).await;
    let started = std::time::Instant::now();
    a.logout(&token).await;
    let closed = ws::close_code(&mut on_b, Duration::from_secs(2)).await;
    assert_eq!(closed, Some((Some(4401), "token revoked".to_owned())));
    assert!(started.elapsed() < Duration::from_secs(1), "closed within a second: {:?}", started.elapsed());
    b.settles_at(0).await;
}

#[tokio::test]
async fn users_and_groups_span_instances() {
    let Some((a, b, world)) = two("").await else { return };
    let (ada, ada_token) = world.user(&a, "ada@example.com").await;
    let (_, bob_token) = world.user(&a, "bob@example.com").await;
    let mut ada_on_b = ws::open(b.server.addr, "/ws/echo/", Some(&ada_token)).await;
    let mut bob_on_a = ws::open(a.server.addr, "/ws/echo/", Some(&bob_token)).await;

    ws::send(&mut bob_on_a, &format!("user:{ada}:across")).await;
    assert_eq!(ws::text(&mut bob_on_a, CODE_WAIT).await, "ok user");
    assert_eq!(ws::text(&mut ada_on_b, CODE_WAIT).await, "across");
    assert!(a.channels.is_online(ada).await.expect("presence"), "a sees ada online on b");
    assert!(!a.channels.is_online(ada + 1000).await.expect("presence"));

    for socket in [&mut ada_on_b, &mut bob_on_a] {
        ws::send(socket, "join:lobby").await;
        assert_eq!(ws::text(socket, CODE_WAIT).await, "ok join");
    }
    a.channels.group_send("lobby", "to everyone").await.expect("group_send");
    assert_eq!(ws::text(&mut bob_on_a, CODE_WAIT).await, "to everyone");
    assert_eq!(ws::text(&mut ada_on_b, CODE_WAIT).await, "to everyone");
    // Exactly once each: the sending instance does not get its own message back.
    assert_eq!(ws::next(&mut bob_on_a, Duration::from_millis(300)).await, Next::Silent);

    drop(ada_on_b);
    b.settles_at(0).await;
    let deadline = tokio::time::Instant::now() + CODE_WAIT;
    while a.channels.is_online(ada).await.expect("presence") {
        assert!(tokio::time::Instant::now() < deadline, "ada's presence outlived her socket");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `App::serve_until` shuts the app down as the `serve` command does: requests answered,
/// then the modules' shutdown steps — live WebSockets get their close frame (1001) —
/// then the background work requests started is waited for.
#[tokio::test]
async fn an_app_served_until_a_signal_closes_its_sockets_and_drains_its_work() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let db = test_db().await;
    let (app, oauth, _) = app(&db, "", false).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn({
        let app = app.clone();
        async move { app.serve_until(listener, async move { drop(stopped.await) }).await }
    });
    let client = oauth.create_application("app", ClientType::Confidential).await.expect("client");
    let id = create_user(&db, "ada@example.com").await;
    let token = oauth.generate_tokens(id, client.id, None).await.expect("tokens").access_token;
    let mut socket = ws::open(addr, "/ws/echo/", Some(&token)).await;
    ws::send(&mut socket, "hello").await;
    assert_eq!(ws::text(&mut socket, CODE_WAIT).await, "hello");
    // Work a request started, still running when the server is told to stop.
    let finished = Arc::new(AtomicBool::new(false));
    app.spawn({
        let finished = finished.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            finished.store(true, Ordering::SeqCst);
        }
    });

    stop.send(()).unwrap();
    let (code, reason) = ws::close_code(&mut socket, CODE_WAIT).await.expect("closed by the server");
    assert_eq!((code, reason.as_str()), (Some(1001), "server shutting down"));
    let result = tokio::time::timeout(Duration::from_secs(10), served).await.expect("serve_until returns");
    result.expect("the serving task").expect("served without an error");
    assert!(finished.load(Ordering::SeqCst), "the background work was waited for");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "no longer listening");
}
