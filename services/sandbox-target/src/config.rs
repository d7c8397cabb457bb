//! Configuration, read from environment variables (or the matching flags).

use clap::builder::TypedValueParser as _;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;

use orch_telemetry::TelemetryConfig;

use crate::faults::{Faults, parse_faults};

/// How the target says "over the rate limit".
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RateLimitMode {
    /// HTTP 429 with `Retry-After`.
    Http,
    /// HTTP 200 with a GraphQL error whose `extensions.code` is `RATE_LIMITED`.
    Graphql,
}

/// Everything the sandbox target reads at start-up.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "orch-sandbox-target",
    version = orch_telemetry::long_version(),
    about = "A stand-in for the target GraphQL API."
)]
pub struct SandboxConfig {
    /// Address to listen on; GraphQL is served at `/graphql`.
    #[arg(long, env = "SANDBOX_LISTEN_ADDR", default_value = "127.0.0.1:8090")]
    pub listen_addr: SocketAddr,

    /// Bearer token callers must present; unset accepts any caller.
    #[arg(long, env = "SANDBOX_TOKEN", hide_env_values = true, value_parser = clap::builder::NonEmptyStringValueParser::new().map(SecretString::from))]
    pub token: Option<SecretString>,

    /// Requests per second allowed by the token bucket; 0 means unlimited.
    #[arg(long, env = "SANDBOX_RATE_LIMIT_PER_SEC", default_value_t = 0)]
    pub rate_limit_per_sec: u32,

    /// Bucket size: requests allowed at once after a quiet spell (0: one second's worth).
    #[arg(long, env = "SANDBOX_RATE_LIMIT_BURST", default_value_t = 0)]
    pub rate_limit_burst: u32,

    /// How a request over the limit is answered.
    #[arg(long, env = "SANDBOX_RATE_LIMIT_MODE", value_enum, default_value_t = RateLimitMode::Http)]
    pub rate_limit_mode: RateLimitMode,

    /// Length of the sliding window for the `max_in_window` counter, in ms.
    #[arg(long, env = "SANDBOX_WINDOW_MS", default_value_t = 1_000)]
    pub window_ms: u64,

    /// File the items persist in (JSON lines); unset keeps them in memory only.
    #[arg(long, env = "SANDBOX_DATA_FILE")]
    pub data_file: Option<PathBuf>,

    /// Faults in force at start, as JSON (see `GET /admin/faults` for the shape).
    #[arg(long, env = "SANDBOX_FAULTS", value_parser = parse_faults, default_value = "{}")]
    pub faults: Faults,

    /// Limits on HTTP clients: timeouts and the connection cap.
    #[command(flatten)]
    pub http: orch_http::ServerLimits,

    #[command(flatten)]
    pub telemetry: TelemetryConfig,
}

impl SandboxConfig {
    /// An open target on a free local port with no faults, limited to `rate`
    /// per second (0: unlimited) and quiet logs: what tests start from.
    pub fn local(rate: u32) -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            token: None,
            rate_limit_per_sec: rate,
            rate_limit_burst: 0,
            rate_limit_mode: RateLimitMode::Http,
            window_ms: 1_000,
            data_file: None,
            faults: Faults::default(),
            http: orch_http::ServerLimits::default(),
            telemetry: TelemetryConfig {
                log_filter: "warn".into(),
                ..TelemetryConfig::local()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn debug_never_prints_a_secret() {
        let config =
            SandboxConfig::try_parse_from(["orch-sandbox-target", "--token", "SECRET"]).unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("SECRET"), "{printed}");
    }
}
