//! A real SMTP server on loopback for the mail tests: the SMTP protocol is the `mailin`
//! crate's session state machine; this file only moves bytes between it and a Tokio
//! socket, and keeps what it receives.
//!
//! ```no_run
//! # async fn demo() {
//! let smtp = nets_tests::smtp::SmtpServer::start().await;
//! // EMAIL_BACKEND = "smtp", EMAIL_HOST = "127.0.0.1", EMAIL_PORT = smtp.port ...
//! let messages = smtp.wait_for(1).await;
//! assert_eq!(messages[0].to, vec!["ada@example.com"]);
//! # }
//! ```

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_parser::MimeHeaders;
use mailin::{AuthMechanism, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A message the server accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// `MAIL FROM`.
    pub from: String,
    /// `RCPT TO`, in order.
    pub to: Vec<String>,
    /// The raw message (headers and body, CRLF line ends).
    pub data: Vec<u8>,
}

impl Received {
    /// The parsed message.
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        match mail_parser::MessageParser::default().parse(&self.data) {
            Some(m) => m,
            None => {
                panic!("the server received a message that does not parse: {:?}", String::from_utf8_lossy(&self.data))
            }
        }
    }
    /// The `Subject` header.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }
    /// The `text/html` part.
    pub fn html(&self) -> String {
        self.parsed().body_html(0).map(|b| b.into_owned()).unwrap_or_default()
    }
    /// The `text/plain` part.
    pub fn text(&self) -> String {
        self.parsed().body_text(0).map(|b| b.into_owned()).unwrap_or_default()
    }
    /// (file name, content type, content) of each attachment.
    pub fn attachments(&self) -> Vec<(String, String, Vec<u8>)> {
        let parsed = self.parsed();
        parsed
            .attachments()
            .map(|a| {
                let ct = a
                    .content_type()
                    .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
                    .unwrap_or_default();
                (a.attachment_name().unwrap_or_default().to_owned(), ct, a.contents().to_vec())
            })
            .collect()
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// Delay before answering the end of DATA (messages "in flight").
    data_delay: Mutex<Duration>,
    /// `(user, password)` the server requires, if any.
    credentials: Option<(String, String)>,
}

/// The SMTP server. Stops when dropped.
pub struct SmtpServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    /// A server on a free port, accepting any message.
    pub async fn start() -> SmtpServer {
        Self::start_with(0, None).await
    }

    /// A server that requires AUTH PLAIN/LOGIN with `user`/`password`.
    pub async fn start_with_auth(user: &str, password: &str) -> SmtpServer {
        Self::start_with(0, Some((user.to_owned(), password.to_owned()))).await
    }

    /// A server on `port` (0: any free port).
    pub async fn start_with(port: u16, credentials: Option<(String, String)>) -> SmtpServer {
        let listener = match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await {
            Ok(l) => l,
            Err(e) => panic!("cannot listen for SMTP on 127.0.0.1:{port}: {e}"),
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let shared = Arc::new(Shared { credentials, ..Shared::default() });
        let mut builder = SessionBuilder::new("nets-test-smtp");
        if shared.credentials.is_some() {
            builder
                .enable_auth(AuthMechanism::Plain)
                .enable_auth(AuthMechanism::Login)
                .insecure_enable_plaintext_auth();
        }
        let task = tokio::spawn({
            let shared = shared.clone();
            async move {
                while let Ok((stream, peer)) = listener.accept().await {
                    tokio::spawn(serve_connection(stream, peer.ip(), builder.clone(), shared.clone()));
                }
            }
        });
        SmtpServer { port, shared, task }
    }

    /// Makes the server wait `delay` before accepting each message.
    pub fn set_data_delay(&self, delay: Duration) {
        *lock(&self.shared.data_delay) = delay;
    }

    /// Messages received so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.received).clone()
    }

    /// Waits (up to 60 s) until at least `n` messages arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("expected {n} messages, the SMTP server received {}: {got:?}", got.len());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Connection {
    shared: Arc<Shared>,
    current: Option<Received>,
    /// Messages complete but not yet acknowledged to the client.
    pending: Arc<Mutex<Vec<Received>>>,
}

impl Handler for Connection {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current = Some(Received { from: from.to_owned(), to: to.to_vec(), data: Vec::new() });
        mailin::response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(current) = &mut self.current {
            current.data.extend_from_slice(buf);
        }
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        if let Some(done) = self.current.take() {
            lock(&self.pending).push(done);
        }
        mailin::response::OK
    }
    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        self.check(user, password)
    }
    fn auth_login(&mut self, user: &str, password: &str) -> Response {
        self.check(user, password)
    }
}

impl Connection {
    fn check(&self, user: &str, password: &str) -> Response {
        match &self.shared.credentials {
            Some((u, p)) if u == user && p == password => mailin::response::AUTH_OK,
            _ => mailin::response::INVALID_CREDENTIALS,
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, peer: IpAddr, builder: SessionBuilder, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true); // answer each command at once (no Nagle delay)
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let pending = Arc::new(Mutex::new(Vec::new()));
    let mut session =
        builder.build(peer, Connection { shared: shared.clone(), current: None, pending: pending.clone() });
    let mut out = Vec::new();
    let _ = session.greeting().write_to(&mut out);
    if write.write_all(&out).await.is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match read.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        if response.action == mailin::Action::NoReply {
            continue;
        }
        // A message is accepted (and counted) only once its 250 is about to be written,
        // after the configured delay: a client killed during the delay never sees it
        // accepted, as with a slow real server.
        let delay = *lock(&shared.data_delay);
        let accepted = is_end_of_data(&line);
        if accepted && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        out.clear();
        let _ = response.write_to(&mut out);
        if write.write_all(&out).await.is_err() {
            return;
        }
        if accepted {
            // The client has its answer: the message counts as received.
            let done = std::mem::take(&mut *lock(&pending));
            lock(&shared.received).extend(done);
        }
        if response.action == mailin::Action::Close {
            return;
        }
    }
}

fn is_end_of_data(line: &[u8]) -> bool {
    line == b".\r\n" || line == b".\n"
}
