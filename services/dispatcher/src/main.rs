use anyhow::Context;
use clap::Parser;
use orch_dispatcher::{Application, DispatcherConfig};

// glibc's allocator spent a quarter of the command service's CPU under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = DispatcherConfig::parse();
    let _telemetry = orch_telemetry::init(&config.telemetry, "orch-dispatcher")?;
    let shutdown = orch_http::shutdown_on_signal();
    let app = Application::build(config)
        .await
        .context("Failed to start the dispatcher")?;
    app.run(shutdown).await.context("The dispatcher failed")
}
