//! Log lines: JSON with the service, trace and span ids and every field of the
//! enclosing spans (so `event_id` is on each line of an event's handling), or
//! readable text for a terminal; both filtered by `RUST_LOG`.

use json_subscriber::JsonLayer;
use tracing::Subscriber;
use tracing_opentelemetry::OtelData;
use tracing_subscriber::fmt::MakeWriter;
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
        LogFormat::Json => json(service, std::io::stdout).with_filter(filter).boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().with_filter(filter).boxed(),
    }
}

fn json<S, W>(service: &str, writer: W) -> JsonLayer<S, W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    let mut layer = JsonLayer::new(writer);
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_json_line_names_the_service_the_trace_the_span_and_the_event() {
        let lines = Lines::default();
        let writer = lines.clone();
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(json("orch-test", move || writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("deliver_event", event_id = "e1");
            let _entered = span.enter();
            tracing::info!(attempt = 2, "Event delivered.");
        });
        let output = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let line: serde_json::Value = serde_json::from_str(output.trim()).unwrap();
        assert_eq!(line["service"], "orch-test");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "Event delivered.");
        assert_eq!(line["attempt"], 2);
        assert_eq!(line["event_id"], "e1");
        assert!(line["timestamp"].as_str().unwrap().starts_with("20"));
        let hex = |key: &str, len: usize| {
            let value = line[key].as_str().unwrap_or_default();
            value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())
        };
        assert!(hex("trace_id", 32) && hex("span_id", 16), "{line}");
    }
}
