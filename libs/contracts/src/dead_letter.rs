use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Brand, ErrorKind, EventId, RawEventRecord, SCHEMA_VERSION};

/// One failed delivery attempt, kept in a dead letter's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// 1-based attempt number.
    pub attempt: u32,
    /// When the attempt finished.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The target's HTTP status, when it answered.
    pub http_status: Option<u16>,
    /// Failure category.
    pub error_kind: ErrorKind,
    /// Failure detail.
    pub error_message: String,
    /// How long the attempt took.
    pub latency_ms: u64,
}

/// An event the dispatcher gave up on, as written to `events.dlq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterRecord {
    /// Record schema version.
    pub schema: u32,
    /// The event id (also the Kafka key).
    pub id: EventId,
    /// Why it was dead-lettered.
    pub reason: ErrorKind,
    /// The last failure's detail.
    pub message: String,
    /// The brand it was enriched with.
    pub brand: Brand,
    /// The event as it was read from `events.raw`.
    pub event: RawEventRecord,
    /// Every attempt made, oldest first.
    pub attempts: Vec<AttemptRecord>,
    /// When it was dead-lettered.
    #[serde(with = "time::serde::rfc3339")]
    pub dead_lettered_at: OffsetDateTime,
}

impl DeadLetterRecord {
    /// A dead letter written now.
    pub fn new(
        event: RawEventRecord,
        brand: Brand,
        reason: ErrorKind,
        message: String,
        attempts: Vec<AttemptRecord>,
    ) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            id: event.id.clone(),
            reason,
            message,
            brand,
            event,
            attempts,
            dead_lettered_at: OffsetDateTime::now_utc(),
        }
    }
}
