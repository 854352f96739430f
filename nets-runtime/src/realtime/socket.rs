//! [`Socket`], the handler's side of a live WebSocket, and the driver task that owns
//! the connection: it writes the send queue, reads into the handler's inbox, pings,
//! and closes on idleness, oversize messages, slow reading, expiry and revocation.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

use super::Limits;
use super::channels::Channels;
use super::hub::close;
use crate::AuthUser;

/// A socket's id on its instance (for [`Channels::group_add`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SocketId(pub(crate) u64);

/// A data frame from the client (pings, pongs and the closing handshake are handled by
/// nets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Bytes),
}

impl From<String> for Frame {
    fn from(text: String) -> Frame {
        Frame::Text(text)
    }
}

impl From<&str> for Frame {
    fn from(text: &str) -> Frame {
        Frame::Text(text.to_owned())
    }
}

impl From<Bytes> for Frame {
    fn from(data: Bytes) -> Frame {
        Frame::Binary(data)
    }
}

impl From<Frame> for Message {
    fn from(frame: Frame) -> Message {
        match frame {
            Frame::Text(text) => Message::Text(Utf8Bytes::from(text)),
            Frame::Binary(data) => Message::Binary(data),
        }
    }
}

/// The socket is closed (or closing): nothing more can be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the socket is closed")]
pub struct SendError;

/// The handler's side of a live socket: frames from the client, a bounded send queue,
/// and the channel layer.
///
/// Return from the handler to close the socket normally (1000). When the client goes
/// away, [`recv`](Self::recv) answers `None` and sends fail: return then.
pub struct Socket {
    id: SocketId,
    inbox: mpsc::Receiver<Frame>,
    outbox: mpsc::Sender<Message>,
    closer: Arc<Closer>,
    user: Option<Arc<AuthUser>>,
    channels: Channels,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").field("id", &self.id).field("user", &self.user).finish_non_exhaustive()
    }
}

impl Socket {
    /// The next frame from the client; `None` once the socket is closed.
    pub async fn recv(&mut self) -> Option<Frame> {
        self.inbox.recv().await
    }

    /// Queues a frame; waits while this socket's queue is full (only this handler
    /// waits: the channel layer never does). Fails once the socket is closed.
    pub async fn send(&self, frame: impl Into<Frame>) -> Result<(), SendError> {
        self.outbox.send(frame.into().into()).await.map_err(|_| SendError)
    }

    /// Queues `value` as a JSON text frame.
    pub async fn send_json(&self, value: &impl serde::Serialize) -> Result<(), SendError> {
        let text = serde_json::to_string(value).map_err(|_| SendError)?;
        self.send(text).await
    }

    /// Closes the socket with `code` (1000, or 4000–4999 for the application's own
    /// reasons) and `reason` (cut to 123 bytes, the protocol's limit).
    pub fn close(&self, code: u16, reason: &str) {
        self.closer.close(code, reason);
    }

    /// This socket's id.
    pub fn id(&self) -> SocketId {
        self.id
    }

    /// The authenticated user (`None` on a `public` endpoint without credentials).
    pub fn user(&self) -> Option<&AuthUser> {
        self.user.as_deref()
    }

    /// The channel layer.
    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    /// Adds this socket to `group` (see [`Channels::group_add`]).
    pub fn join(&self, group: &str) -> Result<(), super::LayerError> {
        self.channels.group_add(group, self.id)
    }

    /// Removes this socket from `group`.
    pub fn leave(&self, group: &str) {
        self.channels.group_discard(group, self.id);
    }
}

/// Asks a socket's driver to close it; the first reason given wins.
#[derive(Default)]
pub(crate) struct Closer {
    token: CancellationToken,
    reason: Mutex<Option<(u16, String)>>,
}

impl Closer {
    pub fn close(&self, code: u16, reason: &str) {
        let mut slot = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some((code, cut(reason, 123).to_owned()));
        }
        drop(slot);
        self.token.cancel();
    }

    fn reason(&self) -> (u16, String) {
        let slot = self.reason.lock().unwrap_or_else(PoisonError::into_inner);
        slot.clone().unwrap_or((close::NORMAL, String::new()))
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The parts of a new socket: the handler's [`Socket`] and what its driver needs.
pub(crate) struct NewSocket {
    pub socket: Socket,
    pub driver: Driver,
}

/// The driver's ends of the socket's queues.
pub(crate) struct Driver {
    queue: mpsc::Receiver<Message>,
    inbox: mpsc::Sender<Frame>,
    closer: Arc<Closer>,
    expires: Option<Instant>,
}

/// Builds the queues of a socket. `register` files the queue's sender and closer with
/// the hub and answers the socket's id.
pub(crate) fn parts(
    limits: &Limits,
    user: Option<Arc<AuthUser>>,
    expires_in: Option<Duration>,
    channels: Channels,
    register: impl FnOnce(mpsc::Sender<Message>, Arc<Closer>) -> u64,
) -> NewSocket {
    let (outbox, queue) = mpsc::channel(limits.send_queue);
    // The handler's inbox is small: a client cannot queue more than this much unread
    // input, since the driver stops reading until the handler takes a frame.
    let (inbox_tx, inbox) = mpsc::channel(8);
    let closer = Arc::new(Closer::default());
    let id = SocketId(register(outbox.clone(), closer.clone()));
    let socket = Socket { id, inbox, outbox, closer: closer.clone(), user, channels };
    let expires = expires_in.map(|d| Instant::now() + d);
    NewSocket { socket, driver: Driver { queue, inbox: inbox_tx, closer, expires } }
}

/// Why the read side ended.
enum Ended {
    /// The peer closed, or the connection dropped.
    Peer,
    /// nets closes with this code and reason.
    Close(u16, String),
}

impl Driver {
    /// Runs the connection until it ends; the socket's queues then close.
    pub async fn run(mut self, mut ws: WebSocket, limits: Limits) {
        let ended = self.pump(&mut ws, &limits).await;
        // The handler's `recv` answers `None` from now on.
        drop(self.inbox);
        if let Ended::Close(code, reason) = ended {
            let frame = CloseFrame { code, reason: Utf8Bytes::from(reason) };
            if timeout(limits.write_timeout, ws.send(Message::Close(Some(frame)))).await.is_ok() {
                // The closing handshake: wait briefly for the peer's close frame.
                let drain = async {
                    while let Some(Ok(m)) = ws.recv().await {
                        if matches!(m, Message::Close(_)) {
                            break;
                        }
                    }
                };
                let _ = timeout(Duration::from_secs(1), drain).await;
            }
        }
    }

    async fn pump(&mut self, ws: &mut WebSocket, limits: &Limits) -> Ended {
        let mut last_heard = Instant::now();
        let mut ping = tokio::time::interval_at(Instant::now() + limits.ping, limits.ping);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let expiry = tokio::time::sleep_until(self.expires.unwrap_or_else(far_future));
        tokio::pin!(expiry);
        let closer = self.closer.clone();
        let inbox = self.inbox.clone();
        let mut permit = None;
        loop {
            tokio::select! {
                biased;
                () = closer.token.cancelled() => {
                    let (code, reason) = closer.reason();
                    return Ended::Close(code, reason);
                }
                () = &mut expiry, if self.expires.is_some() => {
                    return Ended::Close(close::TOKEN, "token expired".into());
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() >= limits.idle {
                        return Ended::Close(close::GOING_AWAY, "idle timeout".into());
                    }
                    if !write(ws, Message::Ping(Bytes::new()), limits).await {
                        return Ended::Peer;
                    }
                }
                out = self.queue.recv() => match out {
                    Some(message) => if !write(ws, message, limits).await { return Ended::Peer },
                    // Every sender is gone: the handler returned and the hub let go.
                    None => return Ended::Close(close::NORMAL, String::new()),
                },
                // Read only with room in the handler's inbox: unread input stays in the
                // connection (TCP pushes back) instead of piling up in memory.
                // The handler returned (its socket, and the inbox's receiver, dropped).
                () = inbox.closed() => return Ended::Close(close::NORMAL, String::new()),
                reserved = inbox.reserve(), if permit.is_none() => match reserved {
                    Ok(p) => permit = Some(p),
                    // The handler returned and dropped its socket.
                    Err(_) => return Ended::Close(close::NORMAL, String::new()),
                },
                incoming = ws.recv(), if permit.is_some() => {
                    last_heard = Instant::now();
                    let frame = match incoming {
                        Some(Ok(Message::Text(text))) => Frame::Text(text.as_str().to_owned()),
                        Some(Ok(Message::Binary(data))) => Frame::Binary(data),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(_))) | None => return Ended::Peer,
                        Some(Err(e)) => return read_error(e, limits),
                    };
                    if let Some(p) = permit.take() {
                        p.send(frame);
                    }
                }
            }
        }
    }
}

/// Writes one message within the write timeout; `false` when the connection is done
/// for (an error, or a peer that stopped reading).
async fn write(ws: &mut WebSocket, message: Message, limits: &Limits) -> bool {
    matches!(timeout(limits.write_timeout, ws.send(message)).await, Ok(Ok(())))
}

/// A read error: an oversize message is answered with 1009; anything else means the
/// connection is gone.
fn read_error(e: axum::Error, limits: &Limits) -> Ended {
    use tokio_tungstenite::tungstenite::Error;
    match e.into_inner().downcast::<Error>().map(|e| *e) {
        Ok(Error::Capacity(_)) => {
            Ended::Close(close::TOO_BIG, format!("message too big (limit {} bytes)", limits.max_message))
        }
        _ => Ended::Peer,
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
