//! The span for the work done on one consumed record, continuing the trace
//! its headers name.

use orch_contracts::HEADER_CORRELATION_ID;
use rdkafka::Message;
use tracing::Span;

use crate::{KafkaHeaders, header_str};

/// A consumer span named `$operation` for `$message` (anything implementing
/// rdkafka's `Message`), with its topic, partition, offset, event id (the
/// key) and correlation id, the child of the span that wrote the record.
/// A macro so the span's code location is the caller's, which tells the
/// services apart in a trace. The three-argument form takes the parent
/// already read from the headers (an `orch_telemetry::RemoteParent`).
#[macro_export]
macro_rules! consumer_span {
    ($operation:literal, $message:expr) => {{
        let message = $message;
        let span = $crate::consumer_span!(@span $operation, message);
        $crate::span::continue_trace(&span, message);
        span
    }};
    ($operation:literal, $message:expr, $parent:expr) => {{
        let span = $crate::consumer_span!(@span $operation, $message);
        $parent.adopt(&span);
        span
    }};
    (@span $operation:literal, $message:expr) => {{
        let message = $message;
        let (event_id, correlation_id) = $crate::span::ids(message);
        $crate::span::__tracing::info_span!(
            $operation,
            otel.kind = "consumer",
            messaging.system = "kafka",
            messaging.destination.name = $crate::span::__Message::topic(message),
            messaging.kafka.partition = $crate::span::__Message::partition(message),
            messaging.kafka.offset = $crate::span::__Message::offset(message),
            event_id = event_id.as_deref(),
            correlation_id,
        )
    }};
}

#[doc(hidden)]
pub use rdkafka::Message as __Message;
#[doc(hidden)]
pub use tracing as __tracing;

/// The record's event id (its key) and correlation id.
#[doc(hidden)]
pub fn ids<M: Message>(message: &M) -> (Option<std::borrow::Cow<'_, str>>, Option<&str>) {
    let correlation_id = message
        .headers()
        .and_then(|headers| header_str(headers, HEADER_CORRELATION_ID));
    (message.key().map(String::from_utf8_lossy), correlation_id)
}

/// Makes `span` continue the trace in `message`'s headers.
#[doc(hidden)]
pub fn continue_trace<M: Message>(span: &Span, message: &M) {
    if let Some(headers) = message.headers() {
        orch_telemetry::continue_trace(span, &KafkaHeaders(headers));
    }
}
