//! [`WebSocketUpgrade`]: the handler argument that makes an endpoint a WebSocket
//! endpoint, and the handshake the pipeline runs for it before anything else.

#![allow(clippy::result_large_err)]

use std::any::Any;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::Realtime;
use super::socket::{NewSocket, Socket, parts};
use crate::auth::{AuthUser, bearer_token};
use crate::oauth::OAuth;
use crate::params::RuleError;
use crate::request::{HandlerArg, Input};
use crate::routing::{ArgKind, Endpoint};
use crate::{ApiError, App, Ctx};

/// The read and write buffer of each socket.
const SOCKET_BUFFER: usize = 8 * 1024;

/// A WebSocket handshake that passed the endpoint's checks. Taking it as an argument
/// makes a `#[request_handler]` a WebSocket endpoint (`method = GET` only); answer it
/// with [`on_upgrade`](Self::on_upgrade).
///
/// ```
/// use nets_runtime::prelude::*;
/// use nets_runtime::realtime::{Response, WebSocketUpgrade};
///
/// /// Live updates of one room: the caller joins its group.
/// #[request_handler(path = "rooms/{room}/live/", method = GET, can_do = "chat.read", perm_required)]
/// async fn room_live(room: i64, ws: WebSocketUpgrade) -> Response {
///     ws.on_upgrade(move |mut socket| async move {
///         if socket.join(&format!("room-{room}")).is_err() {
///             return;
///         }
///         // `group_send("room-..", ..)` anywhere reaches this socket; read until it closes.
///         while socket.recv().await.is_some() {}
///     })
/// }
/// ```
pub struct WebSocketUpgrade {
    handshake: Handshake,
    realtime: Realtime,
    oauth: Option<OAuth>,
    user: Option<Arc<AuthUser>>,
}

impl std::fmt::Debug for WebSocketUpgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketUpgrade").field("user", &self.user).finish_non_exhaustive()
    }
}

/// What the pipeline keeps of a WebSocket request between authentication and the
/// handler: the upgrade itself and the access token that authenticated it.
pub(crate) struct Handshake {
    upgrade: Option<axum::extract::ws::WebSocketUpgrade>,
    /// The token's digest (hex) and expiry, when an OAuth access token authenticated it.
    token: Option<(Arc<str>, DateTime<Utc>)>,
}

impl WebSocketUpgrade {
    /// The user the socket will belong to.
    pub fn user(&self) -> Option<&AuthUser> {
        self.user.as_deref()
    }

    /// Answers `101 Switching Protocols` and runs `handler` with the live [`Socket`].
    /// The socket closes (1000) when `handler` returns.
    pub fn on_upgrade<F, Fut>(self, handler: F) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let WebSocketUpgrade { handshake, realtime, oauth, user } = self;
        let Some(upgrade) = handshake.upgrade else {
            return ApiError::internal("a WebSocket upgrade was answered twice").into_response();
        };
        let limits = *realtime.limits();
        // tungstenite's buffers default to 128 KiB each, and a read fills its buffer with
        // zeros, so every socket would hold 128 KiB resident (measured: 136 KiB per
        // socket). Most frames are small; larger ones grow the buffer as they need.
        let upgrade = upgrade
            .read_buffer_size(SOCKET_BUFFER)
            .write_buffer_size(SOCKET_BUFFER)
            .max_message_size(limits.max_message)
            .max_frame_size(limits.max_message)
            .on_failed_upgrade(|e| tracing::debug!(error = %e, "WebSocket upgrade failed"));
        upgrade.on_upgrade(move |ws| async move {
            let channels = realtime.channels().clone();
            let hub = channels.hub().clone();
            let user_id = user.as_ref().map(|u| u.id);
            let (token, expires) = handshake.token.map_or((None, None), |(t, e)| (Some(t), Some(e)));
            let expires_in = expires.map(|e| (e - Utc::now()).to_std().unwrap_or_default());
            let parts = parts(&limits, user, expires_in, channels.clone(), |outbox, closer| {
                hub.register(outbox, closer, user_id, token.clone())
            });
            if token.is_some()
                && let Some(oauth) = &oauth
            {
                hub.watch_revocations(oauth, limits.revocation_check);
            }
            if let Some(user) = user_id {
                channels.user_joined(user).await;
            }
            let NewSocket { socket, driver } = parts;
            let id = socket.id();
            // The driver and the handler run side by side in this task; the handler's
            // `recv` ends when the driver does, and the driver ends when the handler
            // returns. The socket leaves every map as soon as the connection is over,
            // whatever the handler still does.
            let driven = async {
                driver.run(ws, limits).await;
                hub.unregister(id.0)
            };
            let (last_of_user, ()) = tokio::join!(driven, handler(socket));
            if let Some(user) = last_of_user {
                channels.user_left(user).await;
            }
        })
    }
}

/// Authenticates a WebSocket request: `Authorization: Bearer` through the app's
/// authenticator (remembering the access token, when it is an OAuth one, so the socket
/// ends with it), else `?ticket=`; `?access_token=` is refused. Then, for a request
/// that may proceed, checks that it is an upgrade at all. Bad credentials on a
/// `public` endpoint make the caller anonymous, as on any endpoint; every `Err` is
/// answered.
pub(crate) async fn handshake(
    parts: &mut Parts,
    app: &App,
    public: bool,
) -> Result<(Option<AuthUser>, Handshake), ApiError> {
    let mut handshake = Handshake { upgrade: None, token: None };
    let mut ticket = None;
    for (key, value) in form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
        match key.as_ref() {
            "access_token" => return Err(token_in_url()),
            "ticket" => ticket = Some(value.into_owned()),
            _ => {}
        }
    }
    let oauth = app.state::<OAuth>();
    let found = match (bearer_token(parts), ticket) {
        (Some(token), _) => {
            let user = app.authenticator().authenticate(parts, app).await;
            if let (Ok(Some(_)), Some(oauth)) = (&user, oauth) {
                let session = oauth.session(token).await.map_err(ApiError::internal)?;
                handshake.token = session.map(|(_, digest, expires)| (digest.into(), expires));
            }
            user
        }
        (None, Some(ticket)) => {
            let realtime = app.state::<Realtime>().ok_or_else(|| ApiError::internal("no realtime module"))?;
            realtime.tickets().redeem(&ticket, oauth).await.map(|(user, token)| {
                handshake.token = token;
                Some(user)
            })
        }
        // Cookies or any other credentials the app's authenticator reads.
        (None, None) => app.authenticator().authenticate(parts, app).await,
    };
    let user = match found {
        Ok(user) => user,
        Err(_) if public => {
            handshake.token = None;
            None
        }
        Err(e) => return Err(e),
    };
    if user.is_none() && !public {
        return Err(ApiError::Unauthorized { challenge: None });
    }
    match axum::extract::ws::WebSocketUpgrade::from_request_parts(parts, &()).await {
        Ok(upgrade) => handshake.upgrade = Some(upgrade),
        Err(rejection) => {
            let message = format!("this endpoint expects a WebSocket upgrade: {}", rejection.body_text());
            return Err(ApiError::with_status(rejection.status(), message));
        }
    }
    Ok((user, handshake))
}

fn token_in_url() -> ApiError {
    ApiError::field(
        "access_token",
        "access tokens are never accepted in the URL (URLs are logged): send the Authorization header, or a ticket from POST /ws/ticket/",
    )
}

impl HandlerArg for WebSocketUpgrade {
    const KIND: ArgKind = ArgKind::WebSocket;

    fn extract(_: &mut Input, _: usize, _: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>) -> Option<Option<Self>> {
        Some(None)
    }

    fn resolve(_: Option<Self>, input: &mut Input, _: &mut (dyn Any + Send)) -> Result<Self, Response> {
        let handshake = input.take_handshake();
        let ctx = input.ctx();
        let realtime = ctx.state::<Realtime>().cloned();
        match (handshake, realtime) {
            (Some(handshake), Some(realtime)) => Ok(WebSocketUpgrade {
                handshake,
                realtime,
                oauth: ctx.state::<OAuth>().cloned(),
                user: ctx.user.clone(),
            }),
            _ => Err(ApiError::internal("a WebSocket argument without a handshake").into_response()),
        }
    }

    fn missing(_: &Endpoint, app: &App) -> Option<String> {
        app.state::<Realtime>().is_none().then(|| "the realtime module (install `realtime::Realtime`)".to_owned())
    }
}
