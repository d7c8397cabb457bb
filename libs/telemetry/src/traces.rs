//! The OpenTelemetry tracer provider: always present, so every span has ids
//! to propagate, exporting over OTLP/HTTP only when configured to.

use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::Level;
use tracing_subscriber::filter::{FilterFn, filter_fn};

use crate::{OtlpProtocol, SamplerName, TelemetryConfig, TelemetryError};

/// Builds the provider for `service`, with an OTLP batch exporter if the
/// configuration names an endpoint.
pub(crate) fn provider(
    config: &TelemetryConfig,
    service: &str,
) -> Result<SdkTracerProvider, TelemetryError> {
    let mut builder = SdkTracerProvider::builder()
        .with_sampler(sampler(config)?)
        // The builder also reads OTEL_RESOURCE_ATTRIBUTES.
        .with_resource(
            Resource::builder()
                .with_service_name(service.to_owned())
                .with_attribute(KeyValue::new("service.version", crate::VERSION))
                .build(),
        );
    if let Some(endpoint) = config.traces_endpoint() {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .with_protocol(match config.otel_exporter_otlp_protocol {
                OtlpProtocol::HttpProtobuf => Protocol::HttpBinary,
                OtlpProtocol::HttpJson => Protocol::HttpJson,
            })
            .build()?;
        // The batch processor runs on its own thread and drops spans when its
        // queue is full: a slow trace backend never slows delivery.
        builder = builder.with_batch_exporter(exporter);
    }
    Ok(builder.build())
}

fn sampler(config: &TelemetryConfig) -> Result<Sampler, TelemetryError> {
    let name = config.otel_traces_sampler;
    let ratio = || match config.otel_traces_sampler_arg {
        Some(arg) if (0.0..=1.0).contains(&arg) => Ok(arg),
        arg => Err(TelemetryError::SamplerArg {
            sampler: name.as_str(),
            arg,
        }),
    };
    Ok(match name {
        SamplerName::AlwaysOn => Sampler::AlwaysOn,
        SamplerName::AlwaysOff => Sampler::AlwaysOff,
        SamplerName::TraceIdRatio => Sampler::TraceIdRatioBased(ratio()?),
        SamplerName::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        SamplerName::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        SamplerName::ParentBasedTraceIdRatio => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?)))
        }
    })
}

/// Our own spans at INFO and above, and our warnings and errors as span
/// events; libraries' spans and chatter stay out of the traces.
pub(crate) fn span_filter() -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool + Clone> {
    filter_fn(|metadata| {
        metadata.target().starts_with("orch")
            && if metadata.is_span() {
                *metadata.level() <= Level::INFO
            } else {
                *metadata.level() <= Level::WARN
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_sampler_needs_its_argument() {
        let mut config = TelemetryConfig::local();
        config.otel_traces_sampler = SamplerName::ParentBasedTraceIdRatio;
        let error = sampler(&config).unwrap_err().to_string();
        assert!(error.contains("OTEL_TRACES_SAMPLER_ARG"), "{error}");
        config.otel_traces_sampler_arg = Some(1.5);
        assert!(sampler(&config).is_err());
        config.otel_traces_sampler_arg = Some(0.25);
        assert!(matches!(sampler(&config), Ok(Sampler::ParentBased(_))));
    }
}
