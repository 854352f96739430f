//! A real WebSocket client (tokio-tungstenite) for the real-time tests: connect with a
//! bearer header or a ticket, read text frames and the close frame with a deadline, and
//! see a refused upgrade as the JSON reply it is.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A client socket.
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An upgrade the server refused: its status and JSON body.
#[derive(Debug)]
pub struct Refused {
    /// HTTP status.
    pub status: u16,
    /// The body as JSON (`Value::Null` when it is not JSON).
    pub json: Value,
}

/// Opens `ws://{addr}{path}`, with `Authorization: Bearer {token}` when given.
pub async fn connect(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> Result<Client, Refused> {
    let mut request = format!("ws://{addr}{path}").into_client_request().expect("a WebSocket URL");
    if let Some(token) = token {
        let value = format!("Bearer {token}").parse().expect("header value");
        request.headers_mut().insert("authorization", value);
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(Error::Http(response)) => {
            let status = response.status().as_u16();
            let json = response.body().as_deref().and_then(|b| serde_json::from_slice(b).ok()).unwrap_or(Value::Null);
            Err(Refused { status, json })
        }
        Err(e) => panic!("WebSocket connection to {path} failed: {e}"),
    }
}

/// [`connect`] that must succeed.
pub async fn open(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> Client {
    match connect(addr, path, token).await {
        Ok(socket) => socket,
        Err(refused) => panic!("upgrade of {path} refused: {} {}", refused.status, refused.json),
    }
}

/// Sends a text frame.
pub async fn send(socket: &mut Client, text: &str) {
    socket.send(Message::text(text)).await.expect("send a text frame");
}

/// What the server sent next, within `wait`.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// A text frame.
    Text(String),
    /// A close frame: code and reason (`None` code: closed without a frame).
    Closed(Option<u16>, String),
    /// Nothing within the deadline.
    Silent,
}

/// The next text or close frame (pings and pongs are skipped), within `wait`.
pub async fn next(socket: &mut Client, wait: Duration) -> Next {
    let read = async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => return Next::Text(text.as_str().to_owned()),
                Some(Ok(Message::Close(frame))) => return closed(frame),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Next::Closed(None, String::new()),
            }
        }
    };
    tokio::time::timeout(wait, read).await.unwrap_or(Next::Silent)
}

fn closed(frame: Option<CloseFrame>) -> Next {
    match frame {
        Some(frame) => Next::Closed(Some(u16::from(frame.code)), frame.reason.as_str().to_owned()),
        None => Next::Closed(None, String::new()),
    }
}

/// The next text frame within `wait`; panics on anything else.
pub async fn text(socket: &mut Client, wait: Duration) -> String {
    match next(socket, wait).await {
        Next::Text(text) => text,
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// Reads (discarding text) until the close frame, within `wait`: its code and reason.
pub async fn close_code(socket: &mut Client, wait: Duration) -> Option<(Option<u16>, String)> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match next(socket, left).await {
            Next::Text(_) => continue,
            Next::Closed(code, reason) => return Some((code, reason)),
            Next::Silent => return None,
        }
    }
}
