use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Numbers at or above this are read as milliseconds: as seconds they would be
/// past the year 5000, as milliseconds they are after 1973.
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// The target stores the time as a GraphQL `Int` (32-bit seconds), so anything
/// outside 1970-01-01 ..= 2038-01-19 could never be delivered; refuse it here.
const MAX_SECONDS: i64 = i32::MAX as i64;

/// An event's time, normalised to UTC and deliverable to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTime(OffsetDateTime);

impl EventTime {
    /// Reads an RFC 3339 string, or Unix epoch seconds or milliseconds given as
    /// a JSON integer or a string of digits.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let time = match value {
            Value::String(text) => match text.trim().parse::<i64>() {
                Ok(number) => from_epoch(number)?,
                Err(_) => OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
                    "must be an RFC 3339 time such as 2026-11-21T10:00:00Z, or Unix epoch seconds or milliseconds".to_owned()
                })?,
            },
            Value::Number(number) => match number.as_i64() {
                Some(number) => from_epoch(number)?,
                None => return Err("must be a whole number of Unix epoch seconds or milliseconds".into()),
            },
            _ => return Err("must be an RFC 3339 string or a Unix epoch number".into()),
        };
        let utc = time.to_offset(UtcOffset::UTC);
        if !(0..=MAX_SECONDS).contains(&utc.unix_timestamp()) {
            return Err("must be between 1970-01-01T00:00:00Z and 2038-01-19T03:14:07Z".into());
        }
        Ok(Self(utc))
    }

    /// The time in UTC.
    pub fn utc(self) -> OffsetDateTime {
        self.0
    }
}

fn from_epoch(number: i64) -> Result<OffsetDateTime, String> {
    let nanos = if number.abs() >= MILLIS_THRESHOLD {
        i128::from(number) * 1_000_000
    } else {
        i128::from(number) * 1_000_000_000
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| "is out of range".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn parse(value: Value) -> Result<OffsetDateTime, String> {
        EventTime::parse(&value).map(EventTime::utc)
    }

    #[test]
    fn all_accepted_forms_normalise_to_the_same_utc_instant() {
        let expected = datetime!(2026-11-21 10:00:00 UTC);
        for value in [
            json!("2026-11-21T10:00:00Z"),
            json!("2026-11-21T11:00:00+01:00"),
            json!(1_795_255_200),
            json!("1795255200"),
            json!(1_795_255_200_000_i64),
            json!("1795255200000"),
        ] {
            assert_eq!(parse(value.clone()).unwrap(), expected, "{value}");
        }
        assert_eq!(
            parse(json!("2026-11-21T10:00:00Z")).unwrap().offset(),
            UtcOffset::UTC
        );
    }

    #[test]
    fn keeps_millisecond_precision() {
        let time = parse(json!(1_795_255_200_123_i64)).unwrap();
        assert_eq!(time.millisecond(), 123);
    }

    #[test]
    fn rejects_other_shapes_and_undeliverable_times() {
        for value in [
            json!("yesterday"),
            json!("2026-11-21"),
            json!(1.5),
            json!(true),
            json!(null),
            json!({}),
            json!(-5),
            json!("2040-01-01T00:00:00Z"),
        ] {
            assert!(parse(value.clone()).is_err(), "{value}");
        }
    }
}
