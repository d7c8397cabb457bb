//! Wire contracts shared by every service: topic names, record headers and the
//! versioned JSON records on `events.raw`, `events.status`, `events.dlq` and `events.control`.
//!
//! Every record carries `"schema": 1`. Readers ignore fields they do not know, so
//! a later writer can add fields without breaking an older reader.

mod control;
mod dead_letter;
mod headers;
mod ids;
mod raw_event;
mod status;
mod topics;

pub use control::{
    ControlName, ControlRecord, ControlRecordError, DeliveryControl, MAX_CONTROL_RATE,
    MAX_CONTROL_TEXT,
};
pub use dead_letter::{AttemptRecord, DeadLetterRecord};
pub use headers::{HEADER_CORRELATION_ID, HEADER_SCHEMA, HEADER_TRACEPARENT, HEADER_TRACESTATE};
pub use ids::{Brand, EventId, MAX_EVENT_ID_BYTES};
pub use raw_event::RawEventRecord;
pub use status::{ErrorKind, Status, StatusRecord};
pub use topics::Topics;

/// Version of every record written by this build.
pub const SCHEMA_VERSION: u32 = 1;

/// Serialises a record to the JSON bytes written to Kafka.
pub fn to_json<T: serde::Serialize>(record: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail: no maps with non-string keys.
    serde_json::to_vec(record).unwrap_or_default()
}
