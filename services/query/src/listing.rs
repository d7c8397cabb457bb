//! The filters of `GET /events` and its keyset cursor: parsed and checked
//! here, so the database only ever sees well-formed values.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use orch_contracts::Status;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Page size when the caller names none.
pub(crate) const DEFAULT_LIMIT: i64 = 100;
/// Largest page a caller may ask for.
pub(crate) const MAX_LIMIT: i64 = 1_000;

/// The query string as sent; every field is checked by [`ListParams::filter`].
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Only events in this status: accepted, retrying, delivered or dead_lettered.
    status: Option<String>,
    /// Only events accepted at or after this RFC 3339 time.
    from: Option<String>,
    /// Only events accepted before this RFC 3339 time.
    to: Option<String>,
    /// Events per page, 1 to 1000 (default 100).
    limit: Option<String>,
    /// The previous page's `next_cursor`.
    cursor: Option<String>,
}

/// Where the previous page ended: the last event's acceptance time and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) accepted_at: OffsetDateTime,
    pub(crate) id: String,
}

impl Cursor {
    /// An opaque token for the next page.
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(orch_contracts::to_json(self))
    }

    fn decode(token: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// A checked listing request: newest first, at most `limit` events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListFilter {
    pub(crate) status: Option<Status>,
    /// Accepted at or after this.
    pub(crate) from: Option<OffsetDateTime>,
    /// Accepted before this.
    pub(crate) to: Option<OffsetDateTime>,
    pub(crate) limit: i64,
    pub(crate) after: Option<Cursor>,
}

/// Why a listing request was refused; the message is shown to the caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {message}")]
pub(crate) struct BadFilter {
    pub(crate) field: &'static str,
    pub(crate) message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> BadFilter {
    BadFilter {
        field,
        message: message.into(),
    }
}

impl ListParams {
    /// Checks every parameter, naming the first one that is wrong.
    pub(crate) fn filter(&self) -> Result<ListFilter, BadFilter> {
        let status = match &self.status {
            None => None,
            Some(name) => Some(Status::parse(name).ok_or_else(|| {
                bad(
                    "status",
                    format!("{name:?} is not one of accepted, retrying, delivered, dead_lettered"),
                )
            })?),
        };
        let from = self
            .from
            .as_deref()
            .map(|v| time_param("from", v))
            .transpose()?;
        let to = self
            .to
            .as_deref()
            .map(|v| time_param("to", v))
            .transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            return Err(bad("to", "must be later than `from`"));
        }
        let limit = match &self.limit {
            None => DEFAULT_LIMIT,
            Some(value) => value
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    bad(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        let after = self
            .cursor
            .as_deref()
            .map(|token| {
                Cursor::decode(token)
                    .ok_or_else(|| bad("cursor", "is not a cursor this API handed out"))
            })
            .transpose()?;
        Ok(ListFilter {
            status,
            from,
            to,
            limit,
            after,
        })
    }
}

fn time_param(field: &'static str, value: &str) -> Result<OffsetDateTime, BadFilter> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        bad(
            field,
            format!("{value:?} is not an RFC 3339 time, like 2026-11-22T08:00:00Z"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_a_full_filter_are_accepted() {
        let filter = ListParams::default().filter().unwrap();
        assert_eq!(filter.limit, DEFAULT_LIMIT);
        assert_eq!(filter.status, None);
        let cursor = Cursor {
            accepted_at: OffsetDateTime::from_unix_timestamp_nanos(1_790_000_000_123_456_000)
                .unwrap(),
            id: "évènement/1".into(),
        };
        let params = ListParams {
            status: Some("dead_lettered".into()),
            from: Some("2026-11-22T08:00:00Z".into()),
            to: Some("2026-11-22T10:00:00+01:00".into()),
            limit: Some("1000".into()),
            cursor: Some(cursor.encode()),
        };
        let filter = params.filter().unwrap();
        assert_eq!(filter.status, Some(Status::DeadLettered));
        assert_eq!(filter.limit, 1000);
        assert_eq!(filter.after, Some(cursor), "the cursor round-trips");
    }

    #[test]
    fn each_bad_parameter_is_named() {
        let cases = [
            (
                ListParams {
                    status: Some("lost".into()),
                    ..Default::default()
                },
                "status",
            ),
            (
                ListParams {
                    from: Some("yesterday".into()),
                    ..Default::default()
                },
                "from",
            ),
            (
                ListParams {
                    from: Some("2026-11-22T09:00:00Z".into()),
                    to: Some("2026-11-22T08:00:00Z".into()),
                    ..Default::default()
                },
                "to",
            ),
            (
                ListParams {
                    limit: Some("0".into()),
                    ..Default::default()
                },
                "limit",
            ),
            (
                ListParams {
                    limit: Some("1001".into()),
                    ..Default::default()
                },
                "limit",
            ),
            (
                ListParams {
                    limit: Some("ten".into()),
                    ..Default::default()
                },
                "limit",
            ),
            (
                ListParams {
                    cursor: Some("not-a-cursor".into()),
                    ..Default::default()
                },
                "cursor",
            ),
        ];
        for (params, field) in cases {
            assert_eq!(params.filter().unwrap_err().field, field, "{params:?}");
        }
    }
}
