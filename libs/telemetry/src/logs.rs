//! Log lines: JSON with the service, trace and span ids and every field of the
//! enclosing spans (so `event_id` is on each line of an event's handling), or
//! readable text for a terminal; both filtered by `RUST_LOG`.

use json_subscriber::JsonLayer;
use tracing::Subscriber;
use tracing_opentelemetry::OtelData;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

use crate::{LogFormat, TelemetryConfig};

/// The log layer `config` asks for, for `service`.
pub(crate) fn layer<S>(config: &TelemetryConfig, service: &str) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|error| {
        eprintln!(
            "RUST_LOG={:?} is not a valid filter ({error}); using `info`.",
            config.log_filter
        );
        EnvFilter::new("info")
    });
    match config.log_format {
        LogFormat::Json => json(service).with_filter(filter).boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().with_filter(filter).boxed(),
    }
}

fn json<S>(service: &str) -> JsonLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut layer = JsonLayer::stdout();
    layer
        .with_timer("timestamp", tracing_subscriber::fmt::time::SystemTime)
        .with_level("level")
        .with_target("target")
        .with_flattened_event()
        .with_top_level_flattened_span_list();
    layer.add_static_field("service", serde_json::Value::from(service));
    layer.add_from_span("trace_id", |span| {
        let extensions = span.extensions();
        let data = extensions.get::<OtelData>()?;
        Some(data.trace_id()?.to_string())
    });
    layer.add_from_span("span_id", |span| {
        let extensions = span.extensions();
        let data = extensions.get::<OtelData>()?;
        Some(data.span_id()?.to_string())
    });
    layer
}
