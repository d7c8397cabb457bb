use anyhow::Context;
use clap::Parser;
use orch_sandbox_target::{Application, SandboxConfig};

// glibc's allocator spent a quarter of the command service's CPU under load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = SandboxConfig::parse();
    let _telemetry = orch_telemetry::init(&config.telemetry, "orch-sandbox-target")?;
    let shutdown = orch_http::shutdown_on_signal();
    let app = Application::build(config)
        .await
        .context("Failed to start the sandbox target")?;
    app.run(shutdown).await.context("The sandbox target failed")
}
