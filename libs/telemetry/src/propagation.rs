//! W3C trace context in and out of spans: a span continues the trace named in
//! incoming HTTP or Kafka headers, and its own context is written into the
//! headers of what it sends on.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::{SpanContext, TraceContextExt as _, TraceFlags, TraceState};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// One span's trace context, ready to be written as headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeaders {
    /// The `traceparent` value naming this span as the parent.
    pub traceparent: String,
    /// The `tracestate` value, when the caller sent vendor state.
    pub tracestate: Option<String>,
}

impl TraceHeaders {
    /// The 32-hex-digit trace id, stored with the event: the second field of
    /// the `traceparent` (`00-<trace id>-<span id>-<flags>`).
    pub fn trace_id(&self) -> &str {
        self.traceparent.get(3..35).unwrap_or_default()
    }

    /// Reads the context back from header values, e.g. from a spool record.
    pub fn from_values(traceparent: &str, tracestate: Option<&str>) -> Option<Self> {
        let mut carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
        if let Some(state) = tracestate {
            carrier.insert("tracestate".to_owned(), state.to_owned());
        }
        let context = TraceContextPropagator::new().extract(&carrier);
        let span = context.span();
        let span_context = span.span_context();
        span_context.is_valid().then(|| Self::of(span_context))
    }

    fn of(span_context: &SpanContext) -> Self {
        let mut carrier = HashMap::new();
        let context = Context::new().with_remote_span_context(span_context.clone());
        TraceContextPropagator::new().inject_context(&context, &mut carrier);
        Self {
            traceparent: carrier.remove("traceparent").unwrap_or_default(),
            tracestate: carrier
                .remove("tracestate")
                .filter(|state| !state.is_empty()),
        }
    }
}

/// The trace a carrier's `traceparent` and `tracestate` name, read once.
#[derive(Debug)]
pub struct RemoteParent(Context);

impl RemoteParent {
    /// The carrier's trace; `None` when its header is missing or malformed.
    pub fn extract(carrier: &dyn Extractor) -> Option<Self> {
        let context = TraceContextPropagator::new().extract(carrier);
        context
            .span()
            .span_context()
            .is_valid()
            .then(|| Self(context.clone()))
    }

    /// Whether the trace is being recorded: work done for an unrecorded trace
    /// needs no span of its own.
    pub fn is_sampled(&self) -> bool {
        self.0.span().span_context().is_sampled()
    }

    /// Makes `span` a child of this trace. Call it before `span` is entered.
    pub fn adopt(self, span: &Span) {
        // Fails only when tracing is not initialised; the span then has no
        // context at all, which `trace_headers` makes up for.
        let _ = span.set_parent(self.0);
    }
}

/// Makes `span` continue the trace named in `carrier`. A missing or malformed
/// header leaves `span` the root of a new trace, as the W3C spec asks. Call it
/// before the span is first entered.
pub fn continue_trace(span: &Span, carrier: &dyn Extractor) {
    if let Some(parent) = RemoteParent::extract(carrier) {
        parent.adopt(span);
    }
}

/// What travels with an event from service to service, whatever carries
/// it (Kafka headers, HTTP headers, a spool record): the trace it belongs to
/// and, when the source sent one, its correlation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContext {
    /// The W3C trace context of the span that sent the event on.
    pub trace: TraceHeaders,
    /// The source's `X-Correlation-Id`.
    pub correlation_id: Option<String>,
}

impl EventContext {
    /// The context of an event sent on from within `span`.
    pub fn for_span(span: &Span, correlation_id: Option<String>) -> Self {
        Self {
            trace: trace_headers(span),
            correlation_id,
        }
    }
}

/// `span`'s trace context, to send on with what it produces. Without a
/// tracing subscriber (a library used bare) a fresh root stands in, so a
/// record never carries an all-zero trace id.
pub fn trace_headers(span: &Span) -> TraceHeaders {
    let context = span.context();
    let span_ref = context.span();
    let span_context = span_ref.span_context();
    if span_context.is_valid() {
        return TraceHeaders::of(span_context);
    }
    let ids = RandomIdGenerator::default();
    TraceHeaders::of(&SpanContext::new(
        ids.new_trace_id(),
        ids.new_span_id(),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn header_values_round_trip() {
        let headers = TraceHeaders::from_values(EXAMPLE, Some("vendor=1")).unwrap();
        assert_eq!(headers.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(headers.traceparent, EXAMPLE);
        assert_eq!(headers.tracestate.as_deref(), Some("vendor=1"));
    }

    #[test]
    fn malformed_or_zero_header_values_are_refused() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceHeaders::from_values(bad, None), None, "{bad}");
        }
    }

    #[test]
    fn the_sampled_flag_is_read_from_the_carrier() {
        let carrier = |parent: &str| HashMap::from([("traceparent".to_owned(), parent.to_owned())]);
        let sampled =
            |parent: &str| RemoteParent::extract(&carrier(parent)).map(|p| p.is_sampled());
        assert_eq!(sampled(EXAMPLE), Some(true));
        assert_eq!(sampled(&EXAMPLE.replace("-01", "-00")), Some(false));
        assert!(RemoteParent::extract(&HashMap::<String, String>::new()).is_none());
    }

    #[test]
    fn without_a_subscriber_each_span_gets_a_fresh_valid_root() {
        let a = trace_headers(&Span::none());
        let b = trace_headers(&Span::none());
        assert_ne!(a.trace_id(), b.trace_id());
        assert_eq!(TraceHeaders::from_values(&a.traceparent, None), Some(a));
    }
}
