//! Telemetry settings, read from the environment: the log ones of our own, and
//! the standard OpenTelemetry variables, checked at start-up so a typo fails
//! loudly instead of silently exporting nothing.

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for log shippers.
    Json,
    /// Human-readable lines, for a terminal.
    Text,
}

/// Where finished spans go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TracesExporter {
    /// OTLP over HTTP to the configured endpoint.
    Otlp,
    /// Nowhere: spans still give every event its trace id.
    None,
}

/// The OTLP encoding. gRPC is not offered: it would add a second HTTP stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OtlpProtocol {
    /// Protobuf over HTTP, what collectors expect by default.
    #[value(name = "http/protobuf")]
    HttpProtobuf,
    /// JSON over HTTP.
    #[value(name = "http/json")]
    HttpJson,
}

/// The standard sampler names of `OTEL_TRACES_SAMPLER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SamplerName {
    /// Record every trace.
    #[value(name = "always_on")]
    AlwaysOn,
    /// Record none.
    #[value(name = "always_off")]
    AlwaysOff,
    /// Record a share of traces, given by `OTEL_TRACES_SAMPLER_ARG`.
    #[value(name = "traceidratio")]
    TraceIdRatio,
    /// Follow the caller's decision; record every new trace.
    #[value(name = "parentbased_always_on")]
    ParentBasedAlwaysOn,
    /// Follow the caller's decision; record no new trace.
    #[value(name = "parentbased_always_off")]
    ParentBasedAlwaysOff,
    /// Follow the caller's decision; record a share of new traces.
    #[value(name = "parentbased_traceidratio")]
    ParentBasedTraceIdRatio,
}

impl SamplerName {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AlwaysOn => "always_on",
            Self::AlwaysOff => "always_off",
            Self::TraceIdRatio => "traceidratio",
            Self::ParentBasedAlwaysOn => "parentbased_always_on",
            Self::ParentBasedAlwaysOff => "parentbased_always_off",
            Self::ParentBasedTraceIdRatio => "parentbased_traceidratio",
        }
    }
}

/// Logging and tracing settings read from the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryConfig {
    /// Log line format: `json` for deployments, `text` for a terminal.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Log filter in `RUST_LOG` syntax, e.g. `info,rdkafka=warn`. Spans are
    /// traced whatever this says.
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log_filter: String,

    /// The service name on spans and log lines; defaults to the binary's.
    #[arg(long, env = "OTEL_SERVICE_NAME")]
    pub otel_service_name: Option<String>,

    /// `otlp` or `none`; unset means `otlp` when an OTLP endpoint is set.
    #[arg(long, env = "OTEL_TRACES_EXPORTER", value_enum)]
    pub otel_traces_exporter: Option<TracesExporter>,

    /// Base OTLP/HTTP URL; `/v1/traces` is appended, e.g. `http://localhost:4318`.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otel_exporter_otlp_endpoint: Option<String>,

    /// Full OTLP/HTTP URL for traces; wins over the base endpoint.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")]
    pub otel_exporter_otlp_traces_endpoint: Option<String>,

    /// `http/protobuf` or `http/json`.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_PROTOCOL", value_enum, default_value_t = OtlpProtocol::HttpProtobuf)]
    pub otel_exporter_otlp_protocol: OtlpProtocol,

    /// Which traces are recorded and exported.
    #[arg(long, env = "OTEL_TRACES_SAMPLER", value_enum, default_value_t = SamplerName::ParentBasedAlwaysOn)]
    pub otel_traces_sampler: SamplerName,

    /// The share of traces a ratio sampler keeps, 0 to 1.
    #[arg(long, env = "OTEL_TRACES_SAMPLER_ARG")]
    pub otel_traces_sampler_arg: Option<f64>,
}

impl TelemetryConfig {
    /// Text logs, no export: for tests and tools.
    pub fn local() -> Self {
        Self {
            log_format: LogFormat::Text,
            log_filter: "info".to_owned(),
            otel_service_name: None,
            otel_traces_exporter: None,
            otel_exporter_otlp_endpoint: None,
            otel_exporter_otlp_traces_endpoint: None,
            otel_exporter_otlp_protocol: OtlpProtocol::HttpProtobuf,
            otel_traces_sampler: SamplerName::ParentBasedAlwaysOn,
            otel_traces_sampler_arg: None,
        }
    }

    pub(crate) fn service_name(&self, default_service: &str) -> String {
        self.otel_service_name
            .clone()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| default_service.to_owned())
    }

    /// The traces URL when spans are to be exported.
    pub(crate) fn traces_endpoint(&self) -> Option<String> {
        let configured = self
            .otel_exporter_otlp_traces_endpoint
            .clone()
            .or_else(|| {
                self.otel_exporter_otlp_endpoint
                    .as_deref()
                    .map(|base| format!("{}/v1/traces", base.trim_end_matches('/')))
            })
            .filter(|url| !url.trim().is_empty());
        match self.otel_traces_exporter {
            Some(TracesExporter::None) => None,
            Some(TracesExporter::Otlp) => {
                Some(configured.unwrap_or_else(|| "http://localhost:4318/v1/traces".to_owned()))
            }
            None => configured,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_endpoint_follows_the_otel_rules() {
        let mut config = TelemetryConfig::local();
        assert_eq!(config.traces_endpoint(), None);
        config.otel_exporter_otlp_endpoint = Some("http://collector:4318/".into());
        assert_eq!(
            config.traces_endpoint().as_deref(),
            Some("http://collector:4318/v1/traces")
        );
        config.otel_exporter_otlp_traces_endpoint = Some("http://other/traces".into());
        assert_eq!(
            config.traces_endpoint().as_deref(),
            Some("http://other/traces")
        );
        config.otel_traces_exporter = Some(TracesExporter::None);
        assert_eq!(config.traces_endpoint(), None);
        let mut bare = TelemetryConfig::local();
        bare.otel_traces_exporter = Some(TracesExporter::Otlp);
        assert_eq!(
            bare.traces_endpoint().as_deref(),
            Some("http://localhost:4318/v1/traces")
        );
    }

    #[test]
    fn the_service_name_defaults_to_the_binary() {
        let mut config = TelemetryConfig::local();
        assert_eq!(config.service_name("orch-command"), "orch-command");
        config.otel_service_name = Some("command-eu".into());
        assert_eq!(config.service_name("orch-command"), "command-eu");
    }
}
