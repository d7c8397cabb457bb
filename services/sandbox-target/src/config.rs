//! Configuration, read from environment variables (or the matching flags).

use std::net::SocketAddr;

use orch_telemetry::TelemetryConfig;

/// Everything the sandbox target reads at start-up.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "orch-sandbox-target",
    about = "A stand-in for the target GraphQL API."
)]
pub struct SandboxConfig {
    /// Address to listen on; GraphQL is served at `/graphql`.
    #[arg(long, env = "SANDBOX_LISTEN_ADDR", default_value = "127.0.0.1:8090")]
    pub listen_addr: SocketAddr,

    /// Bearer token callers must present; unset accepts any caller.
    #[arg(long, env = "SANDBOX_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Requests per second allowed (token bucket); 0 means unlimited.
    /// Over it, the target answers 429 with `Retry-After`.
    #[arg(long, env = "SANDBOX_RATE_LIMIT_PER_SEC", default_value_t = 0)]
    pub rate_limit_per_sec: u32,

    #[command(flatten)]
    pub telemetry: TelemetryConfig,
}
