//! The console's settings.

use clap::builder::TypedValueParser as _;
use orch_http::ApiKeys;

/// When the session cookie carries `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecureCookie {
    /// When the request came over TLS, as the proxy in front says
    /// (`X-Forwarded-Proto: https`).
    Auto,
    /// Always (the console is only ever reached over TLS).
    Always,
    /// Never (plain HTTP on a trusted network, as in local development).
    Never,
}

/// How the console signs people in and where it looks for the dispatchers.
#[derive(Debug, Clone, clap::Args)]
pub struct ConsoleConfig {
    /// Ops (acting role) keys: comma-separated `<name>=sha256:<hex>` hashes.
    /// An ops key also reads. Unset, the console only reads.
    #[arg(long, env = "QUERY_OPS_KEY_HASHES", value_parser = ApiKeys::parse)]
    pub ops_key_hashes: Option<ApiKeys>,

    /// How long a console session lasts after sign-in, in minutes (5 to 1440).
    #[arg(
        long,
        env = "QUERY_CONSOLE_SESSION_MINUTES",
        default_value_t = 480,
        value_parser = clap::value_parser!(u32).range(5..=1440)
    )]
    pub session_minutes: u32,

    /// When the session cookie is marked `Secure`.
    #[arg(long, env = "QUERY_CONSOLE_SECURE_COOKIE", value_enum, default_value_t = SecureCookie::Auto)]
    pub secure_cookie: SecureCookie,

    /// The dispatcher replicas' ops addresses, comma-separated, for the
    /// delivery page (breaker, rate share, pause). An entry
    /// `dns+http://<name>:<port>` stands for every address the name
    /// resolves to (a Kubernetes headless service).
    #[arg(
        long,
        env = "QUERY_DISPATCHER_URLS",
        value_delimiter = ',',
        value_parser = clap::builder::NonEmptyStringValueParser::new().map(|s| s.trim().to_owned())
    )]
    pub dispatcher_urls: Vec<String>,

    /// The dispatchers' consumer group, whose lag the delivery page shows.
    #[arg(
        long,
        env = "QUERY_DISPATCHER_GROUP_ID",
        default_value = "orch-dispatcher"
    )]
    pub dispatcher_group_id: String,

    /// Most events one console redrive may publish; a wider one is refused
    /// with a pointer to `orchctl dlq redrive`.
    #[arg(
        long,
        env = "QUERY_CONSOLE_REDRIVE_MAX",
        default_value_t = 10_000,
        value_parser = clap::value_parser!(u32).range(1..=100_000)
    )]
    pub redrive_max: u32,
}
