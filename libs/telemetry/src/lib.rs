//! Logs, traces and trace propagation shared by every binary: JSON or text log
//! lines filtered by `RUST_LOG`, OpenTelemetry spans exported over OTLP/HTTP
//! when the standard `OTEL_*` variables ask for it, and W3C trace context in
//! and out of spans.

mod config;
mod internal_event;
mod live_gauges;
mod logs;
mod propagation;
mod traces;
mod version;

pub use config::{LogFormat, OtlpProtocol, SamplerName, TelemetryConfig, TracesExporter};
pub use internal_event::InternalEvent;
pub use live_gauges::{Series, render_live_gauges, replace_live_gauges};
pub use opentelemetry::propagation::Extractor;
pub use opentelemetry_http::HeaderExtractor;
pub use propagation::{EventContext, RemoteParent, TraceHeaders, continue_trace, trace_headers};
pub use version::{COMMIT, VERSION, long_version};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The OTLP exporter rejected its configuration (endpoint, headers…).
    #[error("the OTLP trace exporter could not be built: {0}")]
    Exporter(#[from] opentelemetry_otlp::ExporterBuildError),
    /// `OTEL_TRACES_SAMPLER_ARG` is missing or outside 0..=1 for a ratio sampler.
    #[error(
        "OTEL_TRACES_SAMPLER={sampler} needs OTEL_TRACES_SAMPLER_ARG between 0 and 1, got {arg:?}"
    )]
    SamplerArg {
        /// The sampler asked for.
        sampler: &'static str,
        /// What the argument was.
        arg: Option<f64>,
    },
    /// Another subscriber is already the global default (in tests, a second init).
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled,
}

/// Keeps the tracer provider alive; dropping it flushes and stops the export.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl TelemetryGuard {
    /// Exports every finished span now instead of at the next batch tick.
    /// Blocks the calling thread until the exporter answers.
    pub fn flush(&self) {
        if let Err(error) = self.provider.force_flush() {
            tracing::warn!(error = %crate::error_chain(&error), "Flushing spans failed.");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        // Spans still queued are sent now; a backend that is down costs at most
        // the export timeout, once, at exit.
        let _ = self.provider.shutdown();
    }
}

/// Installs the global subscriber for `default_service` (used unless
/// `OTEL_SERVICE_NAME` says otherwise); call once, first thing in `main`.
pub fn init(
    config: &TelemetryConfig,
    default_service: &str,
) -> Result<TelemetryGuard, TelemetryError> {
    let service = config.service_name(default_service);
    let provider = traces::provider(config, &service)?;
    // Spans are recorded whatever RUST_LOG says: the trace id an event is
    // stored with must not depend on how chatty the logs are.
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("orch"))
        .with_threads(false)
        .with_filter(traces::span_filter());
    let logs = logs::layer(config, &service);
    tracing_subscriber::registry()
        .with(otel)
        .with(logs)
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInstalled)?;
    Ok(TelemetryGuard { provider })
}

/// An error and each of its causes, `outer: inner: root`: what a log line
/// needs to say why, once. A cause whose text the line already holds (many
/// errors print their source in their own message) is not repeated.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("could not store the batch")]
        Opaque(#[source] std::io::Error),
        #[error("database: {0}")]
        Transparent(#[from] std::io::Error),
    }

    #[test]
    fn every_cause_is_said_once() {
        let opaque = Outer::Opaque(std::io::Error::other("disk full"));
        assert_eq!(error_chain(&opaque), "could not store the batch: disk full");
        let transparent = Outer::Transparent(std::io::Error::other("disk full"));
        assert_eq!(error_chain(&transparent), "database: disk full");
    }
}
