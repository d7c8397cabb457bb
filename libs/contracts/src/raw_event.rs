use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::{EventId, SCHEMA_VERSION};

/// An accepted event as written to `events.raw` by the command service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawEventRecord {
    /// Record schema version.
    pub schema: u32,
    /// The source's event id; also the Kafka key and the idempotency key.
    pub id: EventId,
    /// Event name, as sent.
    pub name: String,
    /// Event body, as sent.
    pub body: String,
    /// The event's own time, normalised to UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// When the command service accepted it.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// W3C trace id of the request that brought it in.
    pub trace_id: String,
    /// The source's `X-Correlation-Id`, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Replay generation: 0 when first accepted, raised by each DLQ redrive.
    #[serde(default)]
    pub generation: u32,
    /// Fields the source sent that the contract does not know: kept, never delivered.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl RawEventRecord {
    /// A generation-0 record for an event accepted now.
    pub fn new(
        id: EventId,
        name: String,
        body: String,
        timestamp: OffsetDateTime,
        trace_id: String,
        extra: Map<String, Value>,
    ) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            id,
            name,
            body,
            timestamp,
            received_at: OffsetDateTime::now_utc(),
            trace_id,
            correlation_id: None,
            generation: 0,
            extra,
        }
    }

    /// The event time as whole Unix seconds, the unit the target's `Int` takes.
    pub fn unix_timestamp(&self) -> i64 {
        self.timestamp.unix_timestamp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn round_trips_through_json_with_unknown_fields_kept() {
        let mut extra = Map::new();
        extra.insert("colour".into(), Value::from("blue"));
        let record = RawEventRecord::new(
            EventId::parse("e1").unwrap(),
            "n".into(),
            "b".into(),
            datetime!(2026-11-21 10:00:00 UTC),
            "4bf92f3577b34da6a3ce929d0e0e4736".into(),
            extra,
        );
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["schema"], 1);
        assert_eq!(json["timestamp"], "2026-11-21T10:00:00Z");
        assert_eq!(json["extra"]["colour"], "blue");
        let back: RawEventRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record);
        assert_eq!(back.unix_timestamp(), 1_795_255_200);
    }
}
