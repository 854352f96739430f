//! [`Channels`]: the channel layer. Messages to a user or a group are delivered to the
//! sockets this instance holds and, over Redis pub/sub, to those every other instance
//! holds. Delivery is at most once: nothing is stored, acknowledged or repeated.

use std::borrow::Cow;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::SetupError;
use super::hub::Hub;
pub use super::hub::Stats;
use super::socket::SocketId;
use crate::Settings;

/// The channel layer (Django Channels' `channel_layer`): `send_to_user`, groups, and
/// the users' presence. Cheap to clone; take it as `State<Channels>` or from
/// [`Socket::channels`](super::Socket::channels).
///
/// ```no_run
/// use nets_runtime::prelude::*;
/// use nets_runtime::realtime::Channels;
///
/// /// Tells everyone watching a room that a message arrived (HTTP endpoint).
/// #[request_handler(path = "rooms/{room}/post/", method = POST)]
/// async fn post(ctx: Ctx, channels: State<Channels>, room: i64, text: String) -> ApiResult<()> {
///     let user = ctx.require_user()?.id;
///     let event = serde_json::json!({"type": "chat.message", "room": room, "from": user, "text": text});
///     channels.group_send(&format!("room-{room}"), event).await.map_err(ApiError::internal)?;
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct Channels(Arc<Inner>);

struct Inner {
    hub: Arc<Hub>,
    redis: Option<RedisLayer>,
    /// This instance, to skip its own messages coming back from Redis.
    instance: String,
    #[cfg(feature = "push")]
    push: std::sync::OnceLock<crate::push::Push>,
    stop: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Ends the subscriber and presence tasks.
        self.stop.cancel();
    }
}

struct RedisLayer {
    connection: ConnectionManager,
    channel: String,
}

/// A channel layer call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    /// Group names are 1–100 ASCII letters, digits, `-`, `_` or `.` (as in Channels).
    #[error("invalid group name {0:?}: use 1-100 ASCII letters, digits, '-', '_' or '.'")]
    InvalidGroup(String),
    /// The socket is closed.
    #[error("the socket is closed")]
    SocketClosed,
    /// Redis could not take the message: sockets on this instance got it, the others
    /// did not.
    #[error("channel layer unavailable: {0}")]
    Unavailable(String),
    /// The push fallback failed.
    #[cfg(feature = "push")]
    #[error("push fallback: {0}")]
    Push(#[from] crate::push::PushError),
}

/// What [`Channels::send_to_user_or_push`] did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Delivery {
    /// The user has a live socket (on some instance): sent through the layer.
    Sockets,
    /// No live socket anywhere: queued as a push notification.
    #[cfg(feature = "push")]
    Push(crate::push::Queued),
    /// No live socket and no push module: nothing was sent.
    Offline,
}

/// One message on the Redis channel.
#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    /// The publishing instance.
    #[serde(borrow)]
    o: Cow<'a, str>,
    /// `u` (a user) or `g` (a group).
    #[serde(borrow)]
    k: Cow<'a, str>,
    /// The user id or group name.
    #[serde(borrow)]
    t: Cow<'a, str>,
    /// The text frame.
    #[serde(borrow)]
    m: Cow<'a, str>,
}

/// How long an instance's presence entry for a user lives without a refresh.
const PRESENCE_TTL: Duration = Duration::from_secs(90);

impl Channels {
    /// The layer `NETS_CORE_WS_CHANNEL_LAYER` asks for; with Redis, subscribed before
    /// this returns (so nothing sent after start-up is missed).
    pub(super) async fn from_settings(settings: &Settings) -> Result<Channels, SetupError> {
        let url = settings.redis_url.as_deref().map(str::trim).filter(|u| !u.is_empty());
        let redis = match (settings.ws_channel_layer.trim(), url) {
            ("auto", Some(url)) | ("redis", Some(url)) => Some(url),
            ("auto", None) | ("memory", _) => None,
            ("redis", None) => return Err(SetupError::Layer("`redis` needs REDIS_URL".into())),
            (other, _) => return Err(SetupError::Layer(format!("{other:?} is not auto, memory or redis"))),
        };
        let channels = Channels::memory();
        match redis {
            Some(url) => channels.over_redis(url, &settings.ws_redis_channel).await,
            None => Ok(channels),
        }
    }

    /// A layer for one process.
    pub fn memory() -> Channels {
        Channels(Arc::new(Inner {
            hub: Arc::default(),
            redis: None,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            #[cfg(feature = "push")]
            push: std::sync::OnceLock::new(),
            stop: CancellationToken::new(),
        }))
    }

    async fn over_redis(self, url: &str, channel: &str) -> Result<Channels, SetupError> {
        let redis_error = |e: redis::RedisError| SetupError::Redis(e.to_string());
        let client = redis::Client::open(url).map_err(redis_error)?;
        let connection = ConnectionManager::new(client.clone()).await.map_err(redis_error)?;
        let mut pubsub = client.get_async_pubsub().await.map_err(redis_error)?;
        pubsub.subscribe(channel).await.map_err(redis_error)?;
        let mut inner = Arc::into_inner(self.0).ok_or_else(|| SetupError::Layer("layer already shared".into()))?;
        inner.redis = Some(RedisLayer { connection, channel: channel.to_owned() });
        let stop = inner.stop.clone();
        let channels = Channels(Arc::new(inner));
        let layer = Arc::downgrade(&channels.0);
        tokio::spawn(subscriber(client, pubsub, channel.to_owned(), layer.clone(), stop.clone()));
        tokio::spawn(presence_refresh(layer, stop));
        Ok(channels)
    }

    pub(super) fn hub(&self) -> &Arc<Hub> {
        &self.0.hub
    }

    #[cfg(feature = "push")]
    pub(super) fn set_push(&self, push: crate::push::Push) {
        let _ = self.0.push.set(push);
    }

    /// Sends `message` (text, or JSON) to every live socket of `user_id`, on every
    /// instance. At most once: sockets closing meanwhile miss it.
    pub async fn send_to_user(&self, user_id: i64, message: impl Into<LayerMessage>) -> Result<(), LayerError> {
        let text = message.into().0;
        self.0.hub.deliver_user(user_id, &text);
        self.publish("u", &user_id.to_string(), &text).await
    }

    /// Sends `message` to every member of `group`, on every instance.
    pub async fn group_send(&self, group: &str, message: impl Into<LayerMessage>) -> Result<(), LayerError> {
        check_group(group)?;
        let text = message.into().0;
        self.0.hub.deliver_group(group, &text);
        self.publish("g", group, &text).await
    }

    /// Adds a socket of this instance to `group` (until it leaves or closes).
    pub fn group_add(&self, group: &str, socket: SocketId) -> Result<(), LayerError> {
        check_group(group)?;
        if self.0.hub.group_add(group, socket.0) { Ok(()) } else { Err(LayerError::SocketClosed) }
    }

    /// Removes a socket from `group`.
    pub fn group_discard(&self, group: &str, socket: SocketId) {
        self.0.hub.group_discard(group, socket.0);
    }

    /// Whether `user_id` has a live socket: here, or (with Redis) on an instance that
    /// announced it within the last 90 seconds.
    pub async fn is_online(&self, user_id: i64) -> Result<bool, LayerError> {
        if self.0.hub.has_user(user_id) {
            return Ok(true);
        }
        let Some(redis) = &self.0.redis else { return Ok(false) };
        let now = chrono::Utc::now().timestamp();
        let mut connection = redis.connection.clone();
        let count: u64 = redis::cmd("ZCOUNT")
            .arg(presence_key(&redis.channel, user_id))
            .arg(now)
            .arg("+inf")
            .query_async(&mut connection)
            .await
            .map_err(|e| LayerError::Unavailable(e.to_string()))?;
        Ok(count > 0)
    }

    /// [`send_to_user`](Self::send_to_user) when the user has a live socket anywhere,
    /// else `notification` through the push module ([`Realtime::with_push`](super::Realtime::with_push);
    /// [`Stack`](crate::stack::Stack) connects it).
    #[cfg(feature = "push")]
    pub async fn send_to_user_or_push(
        &self,
        user_id: i64,
        message: impl Into<LayerMessage>,
        notification: crate::push::Notification,
    ) -> Result<Delivery, LayerError> {
        if self.is_online(user_id).await? {
            self.send_to_user(user_id, message).await?;
            return Ok(Delivery::Sockets);
        }
        match self.0.push.get() {
            Some(push) => Ok(Delivery::Push(push.send_to_user(user_id, notification).await?)),
            None => Ok(Delivery::Offline),
        }
    }

    /// What this instance holds (live sockets, their users, groups with members).
    pub fn stats(&self) -> Stats {
        self.0.hub.stats()
    }

    /// Closes every socket of this instance (1001, `server shutting down`) and waits up
    /// to `wait` for them to end; `false` when some were still open then. Installing
    /// [`Realtime`](super::Realtime) makes it a shutdown step of the app
    /// ([`App::shut_down`](crate::App::shut_down)): upgraded connections are not part of
    /// the HTTP server's graceful shutdown.
    pub async fn close_all(&self, wait: Duration) -> bool {
        self.0.hub.close_all(super::hub::close::GOING_AWAY, "server shutting down");
        let deadline = tokio::time::Instant::now() + wait;
        while self.0.hub.stats().sockets > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    async fn publish(&self, kind: &str, target: &str, text: &str) -> Result<(), LayerError> {
        let Some(redis) = &self.0.redis else { return Ok(()) };
        let envelope =
            Envelope { o: self.0.instance.as_str().into(), k: kind.into(), t: target.into(), m: text.into() };
        let payload = serde_json::to_string(&envelope).map_err(|e| LayerError::Unavailable(e.to_string()))?;
        let mut connection = redis.connection.clone();
        let _receivers: u64 = redis::cmd("PUBLISH")
            .arg(&redis.channel)
            .arg(payload)
            .query_async(&mut connection)
            .await
            .map_err(|e| LayerError::Unavailable(e.to_string()))?;
        Ok(())
    }

    /// A socket of `user` opened here: announced for [`is_online`](Self::is_online).
    pub(super) async fn user_joined(&self, user: i64) {
        if let Some(redis) = &self.0.redis {
            let until = chrono::Utc::now().timestamp() + PRESENCE_TTL.as_secs() as i64;
            let mut connection = redis.connection.clone();
            let result: Result<(), _> = redis::pipe()
                .zadd(presence_key(&redis.channel, user), &self.0.instance, until)
                .ignore()
                .expire(presence_key(&redis.channel, user), PRESENCE_TTL.as_secs() as i64)
                .ignore()
                .query_async(&mut connection)
                .await;
            if let Err(e) = result {
                tracing::debug!(error = %e, user, "realtime: presence not announced");
            }
        }
    }

    /// The last socket of `user` here closed.
    pub(super) async fn user_left(&self, user: i64) {
        if let Some(redis) = &self.0.redis {
            let mut connection = redis.connection.clone();
            let result: Result<u64, _> = redis::cmd("ZREM")
                .arg(presence_key(&redis.channel, user))
                .arg(&self.0.instance)
                .query_async(&mut connection)
                .await;
            if let Err(e) = result {
                tracing::debug!(error = %e, user, "realtime: presence not withdrawn");
            }
        }
    }
}

/// A layer message: a text frame (a string, or JSON).
#[derive(Debug, Clone)]
pub struct LayerMessage(Utf8Bytes);

impl From<String> for LayerMessage {
    fn from(text: String) -> LayerMessage {
        LayerMessage(Utf8Bytes::from(text))
    }
}

impl From<&str> for LayerMessage {
    fn from(text: &str) -> LayerMessage {
        LayerMessage(Utf8Bytes::from(text))
    }
}

impl From<serde_json::Value> for LayerMessage {
    fn from(value: serde_json::Value) -> LayerMessage {
        LayerMessage(Utf8Bytes::from(value.to_string()))
    }
}

fn check_group(group: &str) -> Result<(), LayerError> {
    let valid = !group.is_empty()
        && group.len() <= 100
        && group.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid { Ok(()) } else { Err(LayerError::InvalidGroup(group.chars().take(120).collect())) }
}

fn presence_key(channel: &str, user: i64) -> String {
    format!("{channel}:online:{user}")
}

/// Delivers what other instances publish to this instance's sockets, reconnecting
/// (messages published meanwhile are lost: at most once) until the layer is dropped.
async fn subscriber(
    client: redis::Client,
    first: redis::aio::PubSub,
    channel: String,
    layer: Weak<Inner>,
    stop: CancellationToken,
) {
    let mut pubsub = Some(first);
    loop {
        let connection = match pubsub.take() {
            Some(p) => Ok(p),
            None => subscribe(&client, &channel).await,
        };
        if let Ok(connection) = connection {
            let mut stream = connection.into_on_message();
            loop {
                let message = tokio::select! {
                    () = stop.cancelled() => return,
                    message = stream.next() => message,
                };
                let Some(message) = message else { break };
                let Some(layer) = layer.upgrade() else { return };
                deliver(&layer, message.get_payload_bytes());
            }
            tracing::warn!("realtime: Redis subscription lost; reconnecting");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn subscribe(client: &redis::Client, channel: &str) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// One message from Redis, to this instance's sockets.
fn deliver(layer: &Inner, payload: &[u8]) {
    let Ok(envelope) = serde_json::from_slice::<Envelope<'_>>(payload) else {
        tracing::debug!("realtime: ignored a malformed layer message");
        return;
    };
    if envelope.o == layer.instance.as_str() {
        return;
    }
    let text = Utf8Bytes::from(envelope.m.into_owned());
    match envelope.k.as_ref() {
        "u" => {
            if let Ok(user) = envelope.t.parse() {
                layer.hub.deliver_user(user, &text);
            }
        }
        "g" => {
            layer.hub.deliver_group(&envelope.t, &text);
        }
        _ => {}
    }
}

/// Re-announces this instance's users every 30 seconds, so presence entries of an
/// instance that died expire on their own.
async fn presence_refresh(layer: Weak<Inner>, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(30)) => {}
        }
        let Some(inner) = layer.upgrade() else { return };
        let channels = Channels(inner);
        for user in channels.0.hub.users() {
            channels.user_joined(user).await;
        }
    }
}
