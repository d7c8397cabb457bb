//! Serving HTTP so that no client can hold the server: every connection has
//! a deadline to send its request head (new or kept alive), every request a
//! deadline to be read and answered, and connections are capped below the
//! process's open-file limit. A silent or slow client costs a socket for a
//! few seconds, never the server.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::Problem;

/// Open files kept for everything but client connections (Kafka, Postgres,
/// the spool, logs).
const RESERVED_FILES: u64 = 256;

/// How long and how many: the limits every server of ours puts on clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct ServerLimits {
    /// A connection is closed when no whole request head arrives within
    /// this: on a new connection (the header-read timeout) and between
    /// requests on a kept-alive one (the idle timeout).
    #[arg(long, env = "HTTP_HEADER_READ_TIMEOUT_MS", default_value_t = 5_000)]
    pub http_header_read_timeout_ms: u64,

    /// A request must be read and answered within this, body included; past
    /// it the client gets a 408 problem+json and the connection is closed.
    #[arg(long, env = "HTTP_REQUEST_TIMEOUT_MS", default_value_t = 10_000)]
    pub http_request_timeout_ms: u64,

    /// Most client connections served at once; more wait in the kernel's
    /// accept queue. Lowered at start to fit the open-file limit.
    #[arg(long, env = "HTTP_MAX_CONNECTIONS", default_value_t = 4_096)]
    pub http_max_connections: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            http_header_read_timeout_ms: 5_000,
            http_request_timeout_ms: 10_000,
            http_max_connections: 4_096,
        }
    }
}

impl ServerLimits {
    fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.http_header_read_timeout_ms.max(1))
    }

    fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.http_request_timeout_ms.max(1))
    }

    /// The connection cap, lowered to leave `RESERVED_FILES` of the
    /// process's open-file limit for everything else.
    pub fn max_connections(&self) -> usize {
        let configured = self.http_max_connections.max(1);
        let Ok(limit) = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .ok_or(())
        else {
            return configured;
        };
        let room = usize::try_from(limit.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
        if room < configured {
            tracing::warn!(
                configured,
                open_file_limit = limit,
                using = room.max(1),
                "HTTP_MAX_CONNECTIONS is above what the open-file limit allows; using less."
            );
        }
        configured.min(room.max(1))
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown` is
/// cancelled; then stops accepting, closes idle connections and lets
/// requests in progress finish (each within the request timeout).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let request_timeout = limits.request_timeout();
    let router = router.layer(
        tower::ServiceBuilder::new()
            .layer(HandleErrorLayer::new(
                move |_: tower::BoxError| async move {
                    Problem::request_timeout(request_timeout).into_response()
                },
            ))
            .timeout(request_timeout),
    );
    let service = TowerToHyperService::new(
        router.map_request(|request: http::Request<Incoming>| request.map(axum::body::Body::new)),
    );
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .keep_alive(true);
    let connections = Arc::new(Semaphore::new(limits.max_connections()));
    let graceful = GracefulShutdown::new();
    loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
        };
        // Without TCP_NODELAY a small response can wait for the peer's
        // delayed ACK (40 ms on Linux): the dispatcher measured 80 ms per
        // request to an idle sandbox target before this.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(error = %orch_telemetry::error_chain(&error), "Could not set TCP_NODELAY.");
        }
        let connection =
            graceful.watch(http.serve_connection(TokioIo::new(stream), service.clone()));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // Timeouts and clients that go away are routine, not errors.
                tracing::debug!(error = %orch_telemetry::error_chain(&error), "HTTP connection ended with an error.");
            }
            drop(permit);
        });
    }
    drop(listener);
    // Every request ends within the request timeout, so this is bounded.
    let _ = tokio::time::timeout(
        request_timeout + Duration::from_secs(1),
        graceful.shutdown(),
    )
    .await;
    Ok(())
}

/// An accept that failed: out of file descriptors (wait for some to close,
/// rather than spin) or a connection reset before it was taken (ignore).
async fn accept_failed(error: &std::io::Error) {
    let out_of_files = [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE]
        .iter()
        .any(|errno| error.raw_os_error() == Some(errno.raw_os_error()));
    if out_of_files {
        tracing::warn!(error = %orch_telemetry::error_chain(error), "Out of file descriptors; waiting before accepting again.");
        tokio::time::sleep(Duration::from_millis(50)).await;
    } else {
        tracing::debug!(error = %orch_telemetry::error_chain(error), "Accept failed.");
    }
}

/// A token cancelled on SIGTERM or Ctrl-C: the one shutdown signal a binary
/// hands down to everything it starts.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(
                tokio::signal::unix::SignalKind::terminate(),
            ) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::error!(error = %orch_telemetry::error_chain(&error), "Cannot listen for SIGTERM; only Ctrl-C stops this process gracefully.");
                    let _ = ctrl_c.await;
                    trigger.cancel();
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("Shutdown requested.");
        trigger.cancel();
    });
    token
}
