//! What the spool holds for one event: exactly what the producer would have
//! sent, so the forwarder writes the same key, headers and bytes.

use orch_telemetry::EventContext;
use orch_telemetry::TraceHeaders;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A record waiting in the spool.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SpooledRecord {
    pub(crate) key: String,
    pub(crate) traceparent: String,
    #[serde(default)]
    pub(crate) tracestate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) correlation_id: Option<String>,
    /// The raw record's JSON, byte for byte.
    pub(crate) value: Box<RawValue>,
}

impl SpooledRecord {
    /// Wraps an encoded raw record.
    pub(crate) fn new(key: &str, context: &EventContext, value: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(value).ok()?;
        Some(Self {
            key: key.to_owned(),
            traceparent: context.trace.traceparent.clone(),
            tracestate: context.trace.tracestate.clone(),
            correlation_id: context.correlation_id.clone(),
            value: RawValue::from_string(text.to_owned()).ok()?,
        })
    }

    /// The headers to send it with, exactly as they were written.
    pub(crate) fn context(&self) -> EventContext {
        EventContext {
            trace: TraceHeaders {
                traceparent: self.traceparent.clone(),
                tracestate: self.tracestate.clone(),
            },
            correlation_id: self.correlation_id.clone(),
        }
    }

    /// The spool payload.
    pub(crate) fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a spool payload.
    pub(crate) fn decode(payload: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn keeps_the_value_byte_for_byte() {
        let value = br#"{"schema":1,"id":"e1","z":1,"a":2}"#;
        let context = EventContext {
            trace: TraceHeaders::from_values(PARENT, Some("k=v")).unwrap(),
            correlation_id: Some("order-7".into()),
        };
        let record = SpooledRecord::new("e1", &context, value).unwrap();
        let back = SpooledRecord::decode(&record.encode()).unwrap();
        assert_eq!(back.value.get().as_bytes(), value);
        assert_eq!(back.context(), context);
    }

    #[test]
    fn reads_a_spool_written_before_correlation_ids() {
        let old = format!(r#"{{"key":"e1","traceparent":"{PARENT}","value":{{"id":"e1"}}}}"#);
        let back = SpooledRecord::decode(old.as_bytes()).unwrap();
        assert_eq!(
            back.context().trace.trace_id(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(back.context().correlation_id, None);
    }
}
