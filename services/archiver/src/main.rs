use anyhow::Context;
use clap::Parser;
use orch_archiver::{Application, ArchiverConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = ArchiverConfig::parse();
    let _telemetry = orch_telemetry::init(&config.telemetry, "orch-archiver")?;
    let shutdown = orch_http::shutdown_on_signal();
    let app = Application::build(config)
        .await
        .context("Failed to start the archiver")?;
    app.run(shutdown).await.context("The archiver failed")
}
