//! Running an [`App`]: serve it until the process is asked to stop, then shut down
//! cleanly — what the `serve` management command does, for applications that write their
//! own `main`.
//!
//! Shutting down is, in order: stop accepting and answer the requests in flight
//! ([`serve_with`]); run the modules' shutdown steps ([`AppBuilder::on_shutdown`]: live
//! WebSockets get their close frame); wait for the background work requests started
//! ([`App::spawn`]: the e-mail `/login/` sends after answering).
//!
//! [`AppBuilder::on_shutdown`]: crate::AppBuilder::on_shutdown

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::{App, ServeOptions, serve_with};

/// How long [`App::shut_down`] waits for the background work of requests.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

impl App {
    /// Serves this app on `addr` until Ctrl-C or SIGTERM ([`shutdown_signal`]), with the
    /// settings' timeouts and connection limit ([`ServeOptions::from_settings`]), then
    /// [shuts down](Self::shut_down).
    ///
    /// ```no_run
    /// use nets_runtime::prelude::*;
    ///
    /// #[tokio::main]
    /// async fn main() -> anyhow::Result<()> {
    ///     let app = App::builder(Settings::load()?).routes(build_urlpatterns!()?).build()?;
    ///     app.serve("127.0.0.1:8000".parse()?).await?;
    ///     Ok(())
    /// }
    /// ```
    pub async fn serve(&self, addr: SocketAddr) -> std::io::Result<()> {
        self.serve_until(TcpListener::bind(addr).await?, shutdown_signal()).await
    }

    /// Serves this app on `listener` until `shutdown` completes, then
    /// [shuts down](Self::shut_down). For a listener you bound (port 0 in tests) or a
    /// stop signal of your own.
    pub async fn serve_until(&self, listener: TcpListener, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        serve_with(listener, self.router(), ServeOptions::from_settings(self.settings()), shutdown).await?;
        self.shut_down().await;
        Ok(())
    }

    /// After the server stopped answering: runs the modules' shutdown steps
    /// ([`AppBuilder::on_shutdown`](crate::AppBuilder::on_shutdown)), then waits up to
    /// [`DRAIN_TIMEOUT`] for the background work of requests ([`App::spawn`]). Both are
    /// logged when they run out of time; nothing is left waiting forever.
    pub async fn shut_down(&self) {
        for hook in self.shutdown_hooks() {
            hook(self.clone()).await;
        }
        if !self.drain(DRAIN_TIMEOUT).await {
            tracing::warn!("background work still running after {DRAIN_TIMEOUT:?}: stopping anyway");
        }
    }
}

/// Completes on Ctrl-C or SIGTERM (what container runtimes and systemd send to stop a
/// service).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
