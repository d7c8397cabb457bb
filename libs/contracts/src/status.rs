use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Brand, EventId, SCHEMA_VERSION};

/// Where an event is in its life: `accepted` → `retrying` → `delivered` | `dead_lettered`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In `events.raw`, not yet tried.
    Accepted,
    /// At least one attempt failed and another is scheduled.
    Retrying,
    /// The target acknowledged it.
    Delivered,
    /// Given up on; the event is in `events.dlq`.
    DeadLettered,
}

impl Status {
    /// The wire name, as stored in Postgres and shown by the query API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Retrying => "retrying",
            Status::Delivered => "delivered",
            Status::DeadLettered => "dead_lettered",
        }
    }

    /// Order within one replay generation; a projection never lowers it.
    /// `delivered` outranks `dead_lettered`: once the target has the event,
    /// a redelivery of the same generation that later gives up (at a higher
    /// attempt) must not make support believe it never arrived.
    pub fn rank(self) -> i16 {
        match self {
            Status::Accepted => 0,
            Status::Retrying => 1,
            Status::DeadLettered => 2,
            Status::Delivered => 3,
        }
    }

    /// Every status, in rank order.
    pub const ALL: [Status; 4] = [
        Status::Accepted,
        Status::Retrying,
        Status::Delivered,
        Status::DeadLettered,
    ];

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }
}

/// Why an attempt failed, in bounded categories fit for metric labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Could not connect, or the connection broke.
    Network,
    /// No answer within the request timeout.
    Timeout,
    /// HTTP 429 or a GraphQL error saying rate limited.
    RateLimited,
    /// HTTP 5xx.
    ServerError,
    /// HTTP 4xx other than 408/429: the target refuses this event.
    ClientError,
    /// A GraphQL error in an otherwise successful response.
    GraphqlError,
    /// Retries ran out (attempts or elapsed time).
    RetriesExhausted,
    /// The dispatcher itself failed on this event (a delivery task panicked
    /// again and again); nothing the target said.
    InternalError,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::RateLimited,
        ErrorKind::ServerError,
        ErrorKind::ClientError,
        ErrorKind::GraphqlError,
        ErrorKind::RetriesExhausted,
        ErrorKind::InternalError,
    ];

    /// The kind with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::ServerError => "server_error",
            ErrorKind::ClientError => "client_error",
            ErrorKind::GraphqlError => "graphql_error",
            ErrorKind::RetriesExhausted => "retries_exhausted",
            ErrorKind::InternalError => "internal_error",
        }
    }
}

/// One outcome, as written to `events.status` by the dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusRecord {
    /// Record schema version.
    pub schema: u32,
    /// The event id (also the Kafka key).
    pub id: EventId,
    /// The new status.
    pub status: Status,
    /// 1 for the first delivery attempt; 0 for `accepted`.
    pub attempt: u32,
    /// When this outcome happened.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The target's HTTP status, when it answered.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// Failure category, for failed attempts.
    #[serde(default)]
    pub error_kind: Option<ErrorKind>,
    /// Failure detail, for failed attempts.
    #[serde(default)]
    pub error_message: Option<String>,
    /// How long the attempt took.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// The event's trace id.
    pub trace_id: String,
    /// Replay generation of the raw record this outcome belongs to.
    #[serde(default)]
    pub generation: u32,
    /// The brand the event was enriched with.
    #[serde(default)]
    pub brand: Option<Brand>,
}

impl StatusRecord {
    /// A record with no failure detail; fill in the rest with struct update syntax.
    pub fn new(
        id: &EventId,
        status: Status,
        attempt: u32,
        trace_id: &str,
        generation: u32,
    ) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            id: id.clone(),
            status,
            attempt,
            at: OffsetDateTime::now_utc(),
            http_status: None,
            error_kind: None,
            error_message: None,
            latency_ms: None,
            trace_id: trace_id.to_owned(),
            generation,
            brand: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for status in [
            Status::Accepted,
            Status::Retrying,
            Status::Delivered,
            Status::DeadLettered,
        ] {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("lost"), None);
        for kind in ErrorKind::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
            assert_eq!(ErrorKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ErrorKind::parse("unlucky"), None);
    }

    #[test]
    fn outcomes_outrank_progress() {
        assert!(Status::Accepted.rank() < Status::Retrying.rank());
        assert!(Status::Retrying.rank() < Status::DeadLettered.rank());
        assert!(Status::DeadLettered.rank() < Status::Delivered.rank());
    }

    #[test]
    fn error_kind_serialises_as_its_wire_name() {
        let json = serde_json::to_value(ErrorKind::RateLimited).unwrap();
        assert_eq!(json, ErrorKind::RateLimited.as_str());
    }
}
