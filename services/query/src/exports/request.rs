//! `POST /exports`: what a client asks for, checked field by field, so every
//! bad field is named in one answer.

use orch_contracts::Status;
use orch_http::FieldError;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::format::Format;

/// A valid export request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewExport {
    pub(crate) from: OffsetDateTime,
    pub(crate) to: OffsetDateTime,
    pub(crate) status: Option<Status>,
    pub(crate) format: Format,
}

/// The request body's fields, for the API description.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct ExportRequest {
    /// Start of the range (inclusive) of acceptance times, RFC 3339.
    from: String,
    /// End of the range (exclusive), RFC 3339; after `from`, at most
    /// `QUERY_EXPORT_MAX_RANGE_DAYS` later.
    to: String,
    /// Only events in this status: accepted, retrying, delivered or dead_lettered.
    status: Option<String>,
    /// `ndjson` (the default) or `csv`.
    format: Option<String>,
}

const FIELDS: [&str; 4] = ["from", "to", "status", "format"];

/// Checks a request body; `max_days` is the widest range allowed.
pub(crate) fn parse(
    body: &Map<String, Value>,
    max_days: u32,
) -> Result<NewExport, Vec<FieldError>> {
    let mut errors: Vec<FieldError> = body
        .keys()
        .filter(|key| !FIELDS.contains(&key.as_str()))
        .map(|key| {
            FieldError::new(
                key.as_str(),
                "is not a field of an export; known: from, to, status, format",
            )
        })
        .collect();
    let mut time = |field: &str| match body.get(field) {
        None | Some(Value::Null) => {
            errors.push(FieldError::new(field, "is required (an RFC 3339 time)"));
            None
        }
        Some(Value::String(text)) => match OffsetDateTime::parse(text, &Rfc3339) {
            Ok(at) => Some(at),
            Err(_) => {
                errors.push(FieldError::new(
                    field,
                    "is not an RFC 3339 time, like 2026-12-01T00:00:00Z",
                ));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new(
                field,
                "must be a string (an RFC 3339 time)",
            ));
            None
        }
    };
    let (from, to) = (time("from"), time("to"));
    let status = match body.get("status") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match Status::ALL.iter().find(|s| s.as_str() == text) {
            Some(status) => Some(*status),
            None => {
                errors.push(FieldError::new(
                    "status",
                    "is not a status; one of: accepted, retrying, delivered, dead_lettered",
                ));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("status", "must be a string"));
            None
        }
    };
    let format = match body.get("format") {
        None | Some(Value::Null) => Some(Format::Ndjson),
        Some(Value::String(text)) => match Format::parse(text) {
            Some(format) => Some(format),
            None => {
                errors.push(FieldError::new("format", "must be ndjson or csv"));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("format", "must be a string: ndjson or csv"));
            None
        }
    };
    if let (Some(from), Some(to)) = (from, to) {
        if to <= from {
            errors.push(FieldError::new("to", "must be after from"));
        } else if to - from > time::Duration::days(i64::from(max_days)) {
            errors.push(FieldError::new(
                "to",
                format!("is more than {max_days} days after from (QUERY_EXPORT_MAX_RANGE_DAYS); split the export"),
            ));
        }
    }
    match (from, to, format) {
        (Some(from), Some(to), Some(format)) if errors.is_empty() => Ok(NewExport {
            from,
            to,
            status,
            format,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(body: Value) -> Result<NewExport, Vec<String>> {
        parse(body.as_object().unwrap(), 31)
            .map_err(|errors| errors.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn a_valid_request_defaults_to_ndjson() {
        let export =
            check(json!({"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00+01:00"}))
                .unwrap();
        assert_eq!(export.format, Format::Ndjson);
        assert_eq!(export.status, None);
        let csv = check(json!({"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z", "status": "delivered", "format": "csv"})).unwrap();
        assert_eq!(
            (csv.status, csv.format),
            (Some(Status::Delivered), Format::Csv)
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(check(json!({})).unwrap_err(), ["from", "to"]);
        assert_eq!(
            check(json!({"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}))
                .unwrap_err(),
            ["to"]
        );
        assert_eq!(
            check(json!({"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}))
                .unwrap_err(),
            ["to"]
        );
        assert_eq!(
            check(
                json!({"from": 5, "to": "yesterday", "status": "lost", "format": "xml", "limit": 3})
            )
            .unwrap_err(),
            ["limit", "from", "to", "status", "format"]
        );
    }
}
