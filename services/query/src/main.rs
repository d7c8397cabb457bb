use anyhow::Context;
use clap::Parser;
use orch_query::{Application, QueryConfig};

// glibc's allocator spent a quarter of the command service's CPU under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = QueryConfig::parse();
    let _telemetry = orch_telemetry::init(&config.telemetry, "orch-query")?;
    let shutdown = orch_http::shutdown_on_signal();
    let app = Application::build(config)
        .await
        .context("Failed to start the query service")?;
    app.run(shutdown).await.context("The query service failed")
}
