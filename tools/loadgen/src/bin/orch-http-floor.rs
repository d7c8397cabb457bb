//! `orch-http-floor`: the HTTP floor of this machine for the ingest benchmark.
//! An axum server that reads each `POST /events` body whole and answers 202,
//! with no parsing, no authentication and no Kafka: what the command service
//! would cost if its own work were free. Same allocator, same runtime.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::{get, post};
use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Answer 202 to every `POST /events`, as fast as axum can.
#[derive(Debug, Parser)]
#[command(version = orch_telemetry::long_version())]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:18090")]
    listen: SocketAddr,
}

/// Takes the body (the bytes have to arrive) and ignores it.
async fn accept(_body: Bytes) -> StatusCode {
    StatusCode::ACCEPTED
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    let app = Router::new()
        .route("/events", post(accept))
        .route("/health", get(|| async { StatusCode::OK }));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the server failed")
}
