//! Real-time: authenticated WebSockets declared with `#[request_handler]`, and a channel
//! layer that reaches a user's sockets on whichever server instance holds them
//! (feature `realtime`, in `full`).
//!
//! # A WebSocket endpoint
//!
//! A handler taking a [`WebSocketUpgrade`] is a WebSocket endpoint. It answers `GET`
//! only (the macro refuses anything else) and runs the whole pipeline *before* the
//! upgrade: authentication (private unless `public`), `can_do` / `perm_required`, the
//! project scope, `model = T` ownership, parameters from the query string. A refused
//! upgrade gets the same JSON envelope and status as any endpoint (401, 403, 404, 400),
//! never a half-open socket.
//!
//! ```
//! use nets_runtime::prelude::*;
//! use nets_runtime::realtime::{Frame, Response, WebSocketUpgrade};
//!
//! /// Echoes every text frame.
//! #[request_handler(path = "ws/echo/", method = GET)]
//! async fn echo(ws: WebSocketUpgrade) -> Response {
//!     ws.on_upgrade(|mut socket| async move {
//!         while let Some(frame) = socket.recv().await {
//!             if let Frame::Text(text) = frame
//!                 && socket.send(text).await.is_err()
//!             {
//!                 break; // the socket closed
//!             }
//!         }
//!     })
//! }
//! ```
//!
//! # Credentials
//!
//! Native clients send `Authorization: Bearer <access token>`. Browsers cannot set
//! headers on a WebSocket, so an authenticated `POST /ws/ticket/` hands out a ticket:
//! single use, valid `NETS_CORE_WS_TICKET_SECONDS` (30 s), stored only as a digest,
//! bound to the user and to the access token that asked for it. The socket presents
//! it as `?ticket=..`. Access tokens are never accepted in the URL (URLs end up in
//! logs): `?access_token=` is a 400.
//!
//! A live socket ends when its token does: at its expiry, and within
//! `NETS_CORE_WS_REVOCATION_CHECK_MS` of a revocation (logout, `/o/revoke_token/`, a
//! reused refresh token, a refresh retiring it, account deletion), on every instance,
//! through the token generation the token cache uses (close code **4401**, reason
//! `token revoked` or `token expired`).
//!
//! # Limits (settings)
//!
//! | setting | default | what happens |
//! |---|---|---|
//! | `NETS_CORE_WS_PING_SECONDS` | 20 | a ping every so often |
//! | `NETS_CORE_WS_IDLE_SECONDS` | 60 | a peer silent this long (not even a pong) is closed (1001) |
//! | `NETS_CORE_WS_MAX_MESSAGE_BYTES` | 65 536 | a larger client message closes the socket (1009) |
//! | `NETS_CORE_WS_SEND_QUEUE` | 64 | a socket whose queue is full is closed (1008): a slow reader never grows memory nor delays others |
//! | `NETS_CORE_WS_WRITE_TIMEOUT_SECONDS` | 10 | a write that long drops the connection |
//!
//! # The channel layer
//!
//! [`Channels`] (a handler argument as `State<Channels>`, or [`Socket::channels`]) has
//! the calls apps port from Django Channels: [`send_to_user`](Channels::send_to_user),
//! [`group_add`](Channels::group_add), [`group_discard`](Channels::group_discard),
//! [`group_send`](Channels::group_send). In memory by default; with `REDIS_URL` (or
//! `NETS_CORE_WS_CHANNEL_LAYER = "redis"`) over Redis pub/sub, so several instances
//! behave as one. Delivery is **at most once**, as in Channels: a message to a socket
//! that is closing, or sent while Redis is unreachable, is lost, never repeated.
//! [`Channels::send_to_user_or_push`] falls back to a push notification for users with
//! no live socket on any instance.

mod channels;
mod hub;
mod socket;
mod ticket;
mod upgrade;

use std::sync::Arc;
use std::time::Duration;

pub use axum::response::Response;
pub use channels::{Channels, Delivery, LayerError, LayerMessage, Stats};
pub use socket::{Frame, SendError, Socket, SocketId};
pub use ticket::Ticket;
pub use upgrade::WebSocketUpgrade;

pub(crate) use upgrade::{Handshake, handshake};

use crate::Settings;
use crate::cache::Cache;
use crate::keys::{MissingSecretKey, SecretKey};

/// The real-time module: WebSocket endpoints' runtime, tickets and the channel layer.
/// Cheap to clone. Install it once ([`Stack`](crate::stack::Stack) does).
///
/// ```no_run
/// # async fn demo(settings: nets_runtime::Settings, cache: nets_runtime::cache::Cache) -> Result<(), Box<dyn std::error::Error>> {
/// use nets_runtime::realtime::Realtime;
///
/// let realtime = Realtime::from_settings(&settings, cache).await?;
/// let app = nets_runtime::App::builder(settings).install(realtime).build()?;
/// # let _ = app; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Realtime(Arc<Inner>);

struct Inner {
    limits: Limits,
    channels: Channels,
    tickets: ticket::Tickets,
}

impl std::fmt::Debug for Realtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Realtime").field("limits", &self.0.limits).finish_non_exhaustive()
    }
}

/// The per-socket limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub ping: Duration,
    pub idle: Duration,
    pub max_message: usize,
    pub send_queue: usize,
    pub write_timeout: Duration,
    pub ticket_ttl: Duration,
    pub revocation_check: Duration,
}

impl Limits {
    fn from_settings(s: &Settings) -> Limits {
        Limits {
            ping: Duration::from_secs(s.ws_ping_seconds.max(1)),
            idle: Duration::from_secs(s.ws_idle_seconds.max(1)),
            max_message: s.ws_max_message_bytes.max(1),
            send_queue: s.ws_send_queue.max(1),
            write_timeout: Duration::from_secs(s.ws_write_timeout_seconds.max(1)),
            ticket_ttl: Duration::from_secs(s.ws_ticket_seconds.max(1)),
            revocation_check: Duration::from_millis(s.ws_revocation_check_ms.max(10)),
        }
    }
}

/// [`Realtime::from_settings`] could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// No `SECRET_KEY` outside `DEBUG` (tickets are stored as its digests).
    #[error(transparent)]
    MissingSecretKey(#[from] MissingSecretKey),
    /// `NETS_CORE_WS_CHANNEL_LAYER` is not `auto`, `memory` or `redis`, or is `redis`
    /// without `REDIS_URL`.
    #[error("NETS_CORE_WS_CHANNEL_LAYER: {0}")]
    Layer(String),
    /// Redis could not be reached.
    #[error("channel layer: cannot connect to Redis: {0}")]
    Redis(String),
}

impl Realtime {
    /// The module the settings describe: limits, tickets in `cache`, and the channel
    /// layer (`NETS_CORE_WS_CHANNEL_LAYER`: Redis pub/sub with `REDIS_URL`, else in
    /// memory). Connects to Redis now, so a wrong `REDIS_URL` fails start-up.
    pub async fn from_settings(settings: &Settings, cache: Cache) -> Result<Realtime, SetupError> {
        let limits = Limits::from_settings(settings);
        let key = SecretKey::from_settings(settings)?.derive("ws-ticket");
        let channels = Channels::from_settings(settings).await?;
        Ok(Realtime(Arc::new(Inner { limits, channels, tickets: ticket::Tickets::new(cache, key) })))
    }

    /// The channel layer.
    pub fn channels(&self) -> &Channels {
        &self.0.channels
    }

    /// Sends a push notification through `push` when [`Channels::send_to_user_or_push`]
    /// finds no live socket (builder style).
    #[cfg(feature = "push")]
    pub fn with_push(self, push: crate::push::Push) -> Realtime {
        self.0.channels.set_push(push);
        self
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.0.limits
    }

    pub(crate) fn tickets(&self) -> &ticket::Tickets {
        &self.0.tickets
    }
}

/// How long a shutting-down app waits for its WebSockets to end after their close frames.
const SOCKETS_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Installs the module: its state (`State<Realtime>`, `State<Channels>`),
/// `POST /ws/ticket/`, and a shutdown step ([`App::shut_down`](crate::App::shut_down))
/// that closes the live WebSockets (1001) and waits up to 5 s for them to end.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use nets_runtime::prelude::*;
/// use nets_runtime::cache::Cache;
/// use nets_runtime::realtime::Realtime;
///
/// let settings = Settings::from_toml("DEBUG = true").unwrap();
/// let realtime = Realtime::from_settings(&settings, Cache::memory(1000)).await.unwrap();
/// // `POST /ws/ticket/` is private: the app needs an authenticator (OAuth in practice).
/// let app = App::builder(settings)
///     .authenticator(nets_runtime::auth::StaticBearer::new())
///     .install(realtime)
///     .build()
///     .unwrap();
/// assert!(app.endpoints().any(|e| e.path == "ws/ticket/"));
/// # });
/// ```
impl crate::Module for Realtime {
    fn install(self, app: crate::AppBuilder) -> crate::AppBuilder {
        let channels = self.0.channels.clone();
        let closing = channels.clone();
        app.routes(crate::module::builtin_routes("nets_runtime::realtime")).state(channels).state(self).on_shutdown(
            move |_| {
                let channels = closing.clone();
                Box::pin(async move {
                    if !channels.close_all(SOCKETS_CLOSE_WAIT).await {
                        tracing::warn!(
                            "WebSockets still open {SOCKETS_CLOSE_WAIT:?} after their close frames: stopping anyway"
                        );
                    }
                })
            },
        )
    }
}
