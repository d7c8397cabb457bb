use orch_contracts::{
    HEADER_CORRELATION_ID, HEADER_SCHEMA, HEADER_TRACEPARENT, HEADER_TRACESTATE, SCHEMA_VERSION,
};
use orch_telemetry::{EventContext, Extractor};
use rdkafka::message::{Header, Headers, OwnedHeaders};

/// The headers every record carries: its event's trace context, the schema
/// version and the correlation id when there is one.
pub fn record_headers(context: &EventContext) -> OwnedHeaders {
    let schema = SCHEMA_VERSION.to_string();
    let mut headers = OwnedHeaders::new_with_capacity(4)
        .insert(Header {
            key: HEADER_TRACEPARENT,
            value: Some(context.trace.traceparent.as_str()),
        })
        .insert(Header {
            key: HEADER_SCHEMA,
            value: Some(schema.as_str()),
        });
    if let Some(state) = &context.trace.tracestate {
        headers = headers.insert(Header {
            key: HEADER_TRACESTATE,
            value: Some(state.as_str()),
        });
    }
    if let Some(id) = &context.correlation_id {
        headers = headers.insert(Header {
            key: HEADER_CORRELATION_ID,
            value: Some(id.as_str()),
        });
    }
    headers
}

/// The first header named `name`, if it is present and UTF-8.
pub fn header_str<'a, H: Headers>(headers: &'a H, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|header| header.key == name)
        .and_then(|header| header.value)
        .and_then(|value| std::str::from_utf8(value).ok())
}

/// A record's headers as a source of trace context for `continue_trace`.
#[derive(Debug)]
pub struct KafkaHeaders<'a, H>(pub &'a H);

impl<H: Headers> Extractor for KafkaHeaders<'_, H> {
    fn get(&self, key: &str) -> Option<&str> {
        header_str(self.0, key)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|header| header.key).collect()
    }
}

#[cfg(test)]
mod tests {
    use orch_telemetry::TraceHeaders;

    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn headers_carry_trace_schema_and_correlation() {
        let context = EventContext {
            trace: TraceHeaders::from_values(PARENT, Some("k=v")).unwrap(),
            correlation_id: Some("order-7".into()),
        };
        let headers = record_headers(&context);
        assert_eq!(header_str(&headers, HEADER_TRACEPARENT), Some(PARENT));
        assert_eq!(header_str(&headers, HEADER_SCHEMA), Some("1"));
        assert_eq!(header_str(&headers, HEADER_TRACESTATE), Some("k=v"));
        assert_eq!(header_str(&headers, HEADER_CORRELATION_ID), Some("order-7"));
        assert_eq!(KafkaHeaders(&headers).get(HEADER_TRACEPARENT), Some(PARENT));

        let bare = record_headers(&EventContext {
            trace: TraceHeaders::from_values(PARENT, None).unwrap(),
            correlation_id: None,
        });
        assert_eq!(header_str(&bare, HEADER_TRACESTATE), None);
        assert_eq!(header_str(&bare, HEADER_CORRELATION_ID), None);
        assert_eq!(
            KafkaHeaders(&bare).keys(),
            [HEADER_TRACEPARENT, HEADER_SCHEMA]
        );
    }
}
