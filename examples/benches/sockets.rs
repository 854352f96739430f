//! Memory and leaks of nets' WebSockets on one server instance (the quickstart's
//! `GET /ws/echo/`, authenticated with the DEBUG demo token, in-memory channel layer):
//!
//! * memory per live socket: the server's RSS after a warm-up, then with 1,000
//!   concurrent sockets open (each checked live by an echoed text frame), and the
//!   difference per socket;
//! * leaks: after closing them, 10,000 connect / echo / disconnect cycles (50 clients x
//!   200 rounds, half closed with a close frame, half dropped without one), then the
//!   server's RSS and its channel-layer stats (sockets, users, groups), which must all
//!   come back to 0 within 5 s: the bench exits non-zero otherwise.
//!
//! `cargo bench -p nets-examples --bench sockets`
//!
//! The numbers must be the server's alone, so the bench re-executes itself with `--serve`
//! as the server: a child process that prints its address as its first line of stdout,
//! answers `stats` on stdin with one line of JSON, and exits at EOF. The parent reads
//! `/proc/<pid>/status` (VmRSS, VmHWM) of that child. No timing is asserted.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nets_examples::quickstart::{DEMO_TOKEN, DEVELOPMENT_SECRET_KEY};
use nets_tests::ws;
use serde::Deserialize;
use tokio::io::AsyncBufReadExt;
use tokio::task::JoinSet;

const PATH: &str = "/ws/echo/";
const WARM_UP: usize = 10;
const LIVE: usize = 1_000;
const CLIENTS: usize = 50;
const ROUNDS: usize = 200;
/// How long a reply may take; generous, since the machine may be busy.
const WAIT: Duration = Duration::from_secs(10);
const SETTLE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    // `cargo bench` passes `--bench` too: look for our flag only.
    if std::env::args().any(|a| a == "--serve") {
        runtime.block_on(serve());
        return ExitCode::SUCCESS;
    }
    runtime.block_on(measure())
}

/// The server (child process): the quickstart app on 127.0.0.1, stats on request.
async fn serve() {
    let db = std::env::temp_dir().join(format!("nets-bench-sockets-{}.db", uuid::Uuid::new_v4().simple()));
    let mut settings = nets_runtime::Settings::default();
    settings.debug = true; // the demo token is accepted in DEBUG only
    settings.secret_key = Some(DEVELOPMENT_SECRET_KEY.into());
    settings.database_url = format!("sqlite://{}?mode=rwc", db.display());
    settings.email_backend = "console".into();
    // `Settings::default()` has no REDIS_URL: the in-memory channel layer.
    let stack = nets_runtime::stack::Stack::from_settings(settings).await.expect("the stack");
    let channels = stack.realtime.as_ref().expect("realtime in the stack").channels().clone();
    let app = nets_examples::quickstart::customise(stack.app()).await.expect("the quickstart").build().expect("app");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", listener.local_addr().expect("its address")).expect("stdout");
    stdout.flush().expect("stdout");
    tokio::spawn(nets_runtime::serve_on(listener, app.router()));

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim() == "stats" {
            let s = channels.stats();
            let json = serde_json::json!({"sockets": s.sockets, "users": s.users, "groups": s.groups});
            writeln!(stdout, "{json}").expect("stdout");
            stdout.flush().expect("stdout");
        }
    }
    // EOF: the parent is done (or gone). SQLite may have left -wal / -shm files too.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

/// The server's channel-layer stats, as it prints them.
#[derive(Debug, Deserialize, PartialEq)]
struct Stats {
    sockets: usize,
    users: usize,
    groups: usize,
}

/// The child process, seen from the parent.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start() -> (Server, SocketAddr) {
        let exe = std::env::current_exe().expect("the bench's own path");
        let mut child = Command::new(exe)
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("the server's address");
        let addr = first.trim().parse().unwrap_or_else(|_| panic!("not an address: {first:?}"));
        (Server { child, stdin, stdout }, addr)
    }

    /// (VmRSS, VmHWM) in KiB: current and peak resident memory. The kernel updates the
    /// peak lazily, so it can read a little below an earlier VmRSS.
    fn rss(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        let field = |name: &str| {
            let line = status.lines().find(|l| l.starts_with(name)).expect("the field in /proc status");
            line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number of kB")
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn stats(&mut self) -> Stats {
        writeln!(self.stdin, "stats").and_then(|()| self.stdin.flush()).expect("ask the server");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("the server's answer");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("stats {line:?}: {e}"))
    }

    /// Polls the stats until `sockets` is `want` (or [`SETTLE`] passes): the server sees a
    /// client's close a little after the client is done with it.
    async fn settle(&mut self, want: usize) -> Stats {
        let deadline = Instant::now() + SETTLE;
        loop {
            let stats = self.stats();
            let done = stats.sockets == want && (want > 0 || stats.users + stats.groups == 0);
            if done || Instant::now() >= deadline {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Opens a socket and checks it is live: a text frame comes back echoed.
async fn open_live(addr: SocketAddr, tag: &str) -> ws::Client {
    let mut client = ws::open(addr, PATH, Some(DEMO_TOKEN)).await;
    ws::send(&mut client, tag).await;
    assert_eq!(ws::text(&mut client, WAIT).await, tag, "echo of {tag}");
    client
}

/// A clean close: our close frame, then the server's reply.
async fn close(mut client: ws::Client) {
    // tokio-tungstenite's own `close`: sends the frame and flushes it.
    client.close(None).await.expect("send the close frame");
    ws::close_code(&mut client, WAIT).await.expect("the server's close frame");
}

/// One line of the report: a label, then its value in a column.
fn row(label: &str, value: String) {
    println!("{label:<36} {value}");
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

async fn measure() -> ExitCode {
    let (mut server, addr) = Server::start();
    println!("nets WebSocket bench: server pid {} on {addr}, {PATH}", server.child.id());
    let (start, _) = server.rss();

    // Warm-up: the first sockets allocate what every later one reuses (pools, caches).
    for i in 0..WARM_UP {
        close(open_live(addr, &format!("warm-up {i}")).await).await;
    }
    server.settle(0).await;
    let (base, base_peak) = server.rss();

    // 1. LIVE sockets at once, opened by CLIENTS tasks (not all in one burst, which
    // would only measure the listen backlog).
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for c in 0..CLIENTS {
        tasks.spawn(async move {
            let mut held = Vec::new();
            for i in (c..LIVE).step_by(CLIENTS) {
                held.push(open_live(addr, &format!("live {i}")).await);
            }
            held
        });
    }
    let held: Vec<ws::Client> = tasks.join_all().await.into_iter().flatten().collect();
    let opened = started.elapsed();
    let live = server.settle(LIVE).await;
    let (with, with_peak) = server.rss();
    let per_socket = with.saturating_sub(base) as f64 / held.len() as f64;

    // Close them all cleanly, concurrently.
    let mut closing = JoinSet::new();
    for client in held {
        closing.spawn(close(client));
    }
    closing.join_all().await;
    let closed = server.settle(0).await;
    let (after_close, _) = server.rss();

    // 2. Churn: every other cycle closes cleanly, the rest drop the TCP stream abruptly.
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for c in 0..CLIENTS {
        tasks.spawn(async move {
            for r in 0..ROUNDS {
                let client = open_live(addr, &format!("cycle {c}/{r}")).await;
                match (c + r) % 2 {
                    0 => close(client).await,
                    _ => drop(client),
                }
            }
        });
    }
    tasks.join_all().await;
    let churned = started.elapsed();
    let end = server.settle(0).await;
    let (after, after_peak) = server.rss();

    let cycles = CLIENTS * ROUNDS;
    let delta = |from: u64, to: u64| format!("{:+.1} MiB", (to as f64 - from as f64) / 1024.0);
    row("server RSS at start", mib(start));
    row(&format!("baseline, after {WARM_UP} warm-up sockets"), format!("{}  (peak {})", mib(base), mib(base_peak)));
    row(&format!("with {LIVE} live sockets"), format!("{}  (peak {})", mib(with), mib(with_peak)));
    row("  per live socket", format!("{per_socket:.1} KiB  (RSS delta / {LIVE})"));
    row("  opened and echoed in", format!("{:.2} s  ({CLIENTS} clients at a time)", opened.as_secs_f64()));
    row("  channel layer while open", format!("{live:?}"));
    row("after closing them", format!("{}  {closed:?}", mib(after_close)));
    let rate = cycles as f64 / churned.as_secs_f64();
    row(
        &format!("{cycles} connect/echo/close cycles"),
        format!("{:.2} s  ({rate:.0} cycles/s)", churned.as_secs_f64()),
    );
    row("after the cycles", format!("{}  (peak {})", mib(after), mib(after_peak)));
    row("  vs after closing", delta(after_close, after));
    row("  vs baseline", delta(base, after));
    row("  channel layer", format!("{end:?}"));

    drop(server.stdin); // EOF: the server exits
    let _ = server.child.wait();
    if end == (Stats { sockets: 0, users: 0, groups: 0 }) {
        println!("OK: no socket, user or group left in the channel layer");
        ExitCode::SUCCESS
    } else {
        println!("LEAK: the channel layer still holds {end:?} {SETTLE:?} after the last socket closed");
        ExitCode::FAILURE
    }
}
