use anyhow::Context;
use clap::Parser;
use orch_command::{Application, CommandConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = CommandConfig::parse();
    orch_telemetry::init(&config.telemetry);
    let shutdown = orch_http::shutdown_on_signal();
    let app = Application::build(config)
        .await
        .context("Failed to start the command service")?;
    app.run(shutdown)
        .await
        .context("The command service failed")
}
