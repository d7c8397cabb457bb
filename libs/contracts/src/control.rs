//! Delivery controls on the compacted `events.control` topic: ops pause,
//! resume and re-rate delivery for the whole dispatcher group at run time.
//! The key is the control's name, so compaction keeps the latest of each and
//! a replica that starts reads the state in force.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::SCHEMA_VERSION;

/// Longest reason or operator name a control record may carry; longer ones
/// are cut by readers (a record on a topic is outside input).
pub const MAX_CONTROL_TEXT: usize = 500;

/// Highest group rate a control may set, in events per second.
pub const MAX_CONTROL_RATE: u32 = 1_000_000;

/// Which control a record sets; also its Kafka key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlName {
    /// Delivery paused or running.
    Pause,
    /// The group's rate limit in force.
    Rate,
}

impl ControlName {
    /// The wire name, also the record's key.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlName::Pause => "pause",
            ControlName::Rate => "rate",
        }
    }

    /// Parses a key.
    pub fn parse(key: &str) -> Option<Self> {
        [ControlName::Pause, ControlName::Rate]
            .into_iter()
            .find(|name| name.as_str() == key)
    }
}

/// What a control sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "control", rename_all = "snake_case")]
pub enum DeliveryControl {
    /// `paused: true` stops every send; `false` resumes.
    Pause {
        /// Whether delivery is paused.
        paused: bool,
    },
    /// The group's events/s; `null` goes back to the configured figure.
    Rate {
        /// Events per second for the whole group, or `None` for the configured rate.
        events_per_second: Option<u32>,
    },
}

impl DeliveryControl {
    /// The control this value belongs to.
    pub fn name(self) -> ControlName {
        match self {
            DeliveryControl::Pause { .. } => ControlName::Pause,
            DeliveryControl::Rate { .. } => ControlName::Rate,
        }
    }
}

/// One record on `events.control`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlRecord {
    /// Record schema version.
    pub schema: u32,
    /// The control and its value.
    #[serde(flatten)]
    pub control: DeliveryControl,
    /// Why it was set, as the operator said.
    pub reason: String,
    /// Who set it.
    pub by: String,
    /// When it was set.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// For a pause: when the reason says it ends, e.g. the end of the
    /// target's maintenance window. Past it, the pause alert fires; nothing
    /// resumes by itself.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<OffsetDateTime>,
}

/// Why a control record was refused by a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlRecordError {
    /// Not JSON of the right shape.
    Malformed(String),
    /// The key names no known control.
    UnknownKey(String),
    /// The key and the value's control disagree.
    KeyMismatch {
        /// The record's key.
        key: String,
        /// The control in its value.
        value: ControlName,
    },
    /// A rate of 0 or above [`MAX_CONTROL_RATE`].
    RateOutOfRange(u32),
}

impl std::fmt::Display for ControlRecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(error) => write!(f, "not a control record: {error}"),
            Self::UnknownKey(key) => write!(f, "unknown control {key:?}"),
            Self::KeyMismatch { key, value } => write!(
                f,
                "key {key:?} does not match the record's control {:?}",
                value.as_str()
            ),
            Self::RateOutOfRange(rate) => {
                write!(f, "rate {rate} is not between 1 and {MAX_CONTROL_RATE}")
            }
        }
    }
}

impl std::error::Error for ControlRecordError {}

impl ControlRecord {
    /// A record written now.
    pub fn new(control: DeliveryControl, reason: String, by: String) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            control,
            reason,
            by,
            at: OffsetDateTime::now_utc(),
            until: None,
        }
    }

    /// The same record, stating when the pause is meant to end.
    pub fn until(self, until: Option<OffsetDateTime>) -> Self {
        Self { until, ..self }
    }

    /// Reads a record from its key and payload, checking it fully: a record
    /// on the topic may have been written by anyone with access to it.
    /// Over-long texts are cut, not refused.
    pub fn read(key: &[u8], payload: &[u8]) -> Result<Self, ControlRecordError> {
        let key_text = String::from_utf8_lossy(key);
        let name = ControlName::parse(&key_text)
            .ok_or_else(|| ControlRecordError::UnknownKey(cut(&key_text)))?;
        let mut record: Self = serde_json::from_slice(payload)
            .map_err(|error| ControlRecordError::Malformed(error.to_string()))?;
        if record.control.name() != name {
            return Err(ControlRecordError::KeyMismatch {
                key: cut(&key_text),
                value: record.control.name(),
            });
        }
        if let DeliveryControl::Rate {
            events_per_second: Some(rate),
        } = record.control
            && !(1..=MAX_CONTROL_RATE).contains(&rate)
        {
            return Err(ControlRecordError::RateOutOfRange(rate));
        }
        record.reason = cut(&record.reason);
        record.by = cut(&record.by);
        Ok(record)
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_CONTROL_TEXT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_under_its_key() {
        let record = ControlRecord::new(
            DeliveryControl::Rate {
                events_per_second: Some(200),
            },
            "target asked".into(),
            "alice".into(),
        );
        let json = serde_json::to_vec(&record).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["control"], "rate");
        assert_eq!(value["events_per_second"], 200);
        assert_eq!(ControlRecord::read(b"rate", &json).unwrap(), record);
    }

    #[test]
    fn hostile_records_are_refused_or_cut() {
        let pause = br#"{"schema":1,"control":"pause","paused":true,"reason":"r","by":"b","at":"2026-12-01T00:00:00Z"}"#;
        assert!(matches!(
            ControlRecord::read(b"rate", pause),
            Err(ControlRecordError::KeyMismatch { .. })
        ));
        assert!(matches!(
            ControlRecord::read(b"speed", pause),
            Err(ControlRecordError::UnknownKey(_))
        ));
        assert!(matches!(
            ControlRecord::read(b"pause", b"{"),
            Err(ControlRecordError::Malformed(_))
        ));
        let zero = br#"{"schema":1,"control":"rate","events_per_second":0,"reason":"r","by":"b","at":"2026-12-01T00:00:00Z"}"#;
        assert_eq!(
            ControlRecord::read(b"rate", zero),
            Err(ControlRecordError::RateOutOfRange(0))
        );
        let long = format!(
            r#"{{"schema":1,"control":"pause","paused":false,"reason":"{}","by":"b","at":"2026-12-01T00:00:00Z"}}"#,
            "x".repeat(10_000)
        );
        let record = ControlRecord::read(b"pause", long.as_bytes()).unwrap();
        assert_eq!(record.reason.chars().count(), MAX_CONTROL_TEXT + 1);
    }
}
