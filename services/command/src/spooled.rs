//! What the spool holds for one event: exactly what the producer would have
//! sent, so the forwarder writes the same key, headers and bytes.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// A record waiting in the spool.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SpooledRecord {
    pub(crate) key: String,
    pub(crate) traceparent: String,
    #[serde(default)]
    pub(crate) tracestate: Option<String>,
    /// The raw record's JSON, byte for byte.
    pub(crate) value: Box<RawValue>,
}

impl SpooledRecord {
    /// Wraps an encoded raw record.
    pub(crate) fn new(
        key: &str,
        traceparent: &str,
        tracestate: Option<&str>,
        value: &[u8],
    ) -> Option<Self> {
        let text = std::str::from_utf8(value).ok()?;
        Some(Self {
            key: key.to_owned(),
            traceparent: traceparent.to_owned(),
            tracestate: tracestate.map(str::to_owned),
            value: RawValue::from_string(text.to_owned()).ok()?,
        })
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

    #[test]
    fn keeps_the_value_byte_for_byte() {
        let value = br#"{"schema":1,"id":"e1","z":1,"a":2}"#;
        let record = SpooledRecord::new("e1", "00-ab-cd-01", Some("k=v"), value).unwrap();
        let back = SpooledRecord::decode(&record.encode()).unwrap();
        assert_eq!(back.value.get().as_bytes(), value);
        assert_eq!(back.tracestate.as_deref(), Some("k=v"));
    }
}
