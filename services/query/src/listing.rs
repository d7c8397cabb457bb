//! The filters of `GET /events` and its keyset cursor: parsed and checked
//! here, so the database only ever sees well-formed values.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use orch_contracts::{ErrorKind, Status};
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
    /// Only events with this `X-Correlation-Id` (exact, 1 to 128 characters).
    correlation_id: Option<String>,
    /// Only events of this W3C trace id (32 hexadecimal digits).
    trace_id: Option<String>,
    /// Only events whose name or body contains this text, any case (3 to
    /// 200 characters).
    q: Option<String>,
    /// Only events whose furthest failed attempt was of this kind (network,
    /// timeout, rate_limited, server_error, client_error, graphql_error,
    /// retries_exhausted, internal_error).
    error_kind: Option<String>,
    /// Only events whose furthest answered attempt got this HTTP status (100 to 599).
    http_status: Option<String>,
    /// `newest` (the default) or `oldest` first, by acceptance time.
    sort: Option<String>,
    /// `true`: only overdue events, not final within the overdue limit
    /// (QUERY_OVERDUE_AFTER_SECS) of acceptance or of delivery's last
    /// resume; none while delivery is paused.
    overdue: Option<String>,
}

/// The shortest text search: pg_trgm's index needs three characters.
pub(crate) const MIN_TEXT: usize = 3;
/// The longest text search.
pub(crate) const MAX_TEXT: usize = 200;
/// The longest correlation id the command service accepts.
const MAX_CORRELATION_ID: usize = 128;

/// The listing's order, by acceptance time with the id as tie-break.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Sort {
    /// Newest accepted first.
    #[default]
    Newest,
    /// Oldest accepted first.
    Oldest,
}

impl Sort {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "newest" => Some(Self::Newest),
            "oldest" => Some(Self::Oldest),
            _ => None,
        }
    }

    /// The wire name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
        }
    }
}

/// Where the previous page ended: the last event's acceptance time and id,
/// and the order the pages are in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) accepted_at: OffsetDateTime,
    pub(crate) id: String,
    /// Absent in cursors handed out before sorting existed: newest first.
    #[serde(default, skip_serializing_if = "is_newest")]
    pub(crate) sort: Sort,
}

fn is_newest(sort: &Sort) -> bool {
    *sort == Sort::Newest
}

impl Cursor {
    /// An opaque token for the next page.
    pub(crate) fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(orch_contracts::to_json(self))
    }

    /// The cursor behind a token, if it is one of ours.
    pub(crate) fn decode(token: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// A listed row's place in the keyset order: its acceptance time and id.
pub(crate) trait PageKey {
    /// `None` for a row not yet accepted (it sorts nowhere).
    fn page_key(&self) -> Option<(OffsetDateTime, &str)>;
}

/// Cuts `rows` (fetched with one row more than `limit`) to the page and
/// returns the cursor of the next page, if there is one.
pub(crate) fn next_page<T: PageKey>(rows: &mut Vec<T>, limit: i64, sort: Sort) -> Option<String> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() <= limit {
        return None;
    }
    rows.truncate(limit);
    let (accepted_at, id) = rows.last()?.page_key()?;
    Some(
        Cursor {
            accepted_at,
            id: id.to_owned(),
            sort,
        }
        .encode(),
    )
}

/// A checked listing request: in `sort` order, at most `limit` events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListFilter {
    pub(crate) status: Option<Status>,
    pub(crate) correlation_id: Option<String>,
    /// Lower-case hex.
    pub(crate) trace_id: Option<String>,
    /// A `LIKE` pattern: the text with `\`, `%` and `_` escaped, in `%…%`.
    pub(crate) text_pattern: Option<String>,
    pub(crate) error_kind: Option<ErrorKind>,
    pub(crate) http_status: Option<i32>,
    pub(crate) sort: Sort,
    /// Accepted at or after this.
    pub(crate) from: Option<OffsetDateTime>,
    /// Accepted before this.
    pub(crate) to: Option<OffsetDateTime>,
    pub(crate) limit: i64,
    pub(crate) after: Option<Cursor>,
    /// Only overdue events.
    pub(crate) overdue: bool,
    /// Where "overdue" begins, set by the handler from the sweeper's clock;
    /// `None` with `overdue`: nothing is overdue (delivery paused).
    pub(crate) overdue_cutoff: Option<OffsetDateTime>,
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
        let sort = match &self.sort {
            None => Sort::default(),
            Some(name) => Sort::parse(name)
                .ok_or_else(|| bad("sort", format!("{name:?} is not newest or oldest")))?,
        };
        let after = self
            .cursor
            .as_deref()
            .map(|token| {
                Cursor::decode(token)
                    .ok_or_else(|| bad("cursor", "is not a cursor this API handed out"))
            })
            .transpose()?;
        if let Some(cursor) = &after
            && cursor.sort != sort
        {
            return Err(bad(
                "cursor",
                format!(
                    "was handed out for sort={}; ask again with that order or without the cursor",
                    cursor.sort.as_str()
                ),
            ));
        }
        Ok(ListFilter {
            status,
            correlation_id: self
                .correlation_id
                .as_deref()
                .map(correlation_id)
                .transpose()?,
            trace_id: self.trace_id.as_deref().map(trace_id).transpose()?,
            text_pattern: self.q.as_deref().map(text_pattern).transpose()?,
            error_kind: self.error_kind.as_deref().map(error_kind).transpose()?,
            http_status: self.http_status.as_deref().map(http_status).transpose()?,
            sort,
            from,
            to,
            limit,
            after,
            overdue: match self.overdue.as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(bad("overdue", format!("{other:?} is not true or false")));
                }
            },
            overdue_cutoff: None,
        })
    }
}

fn correlation_id(value: &str) -> Result<String, BadFilter> {
    let visible = value.bytes().all(|b| b.is_ascii_graphic());
    if visible && (1..=MAX_CORRELATION_ID).contains(&value.len()) {
        Ok(value.to_owned())
    } else {
        Err(bad(
            "correlation_id",
            format!("must be 1 to {MAX_CORRELATION_ID} visible ASCII characters"),
        ))
    }
}

/// A W3C trace id: 32 hex digits, not all zero; upper case is folded.
pub(crate) fn trace_id(value: &str) -> Result<String, BadFilter> {
    let hex = value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit());
    if hex && value.bytes().any(|b| b != b'0') {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(bad(
            "trace_id",
            "must be 32 hexadecimal digits, not all zero (a W3C trace id)",
        ))
    }
}

/// A `LIKE` pattern finding `value` (trimmed, 3 to 200 characters) anywhere.
pub(crate) fn text_pattern(value: &str) -> Result<String, BadFilter> {
    let text = value.trim();
    let length = text.chars().count();
    if !(MIN_TEXT..=MAX_TEXT).contains(&length) {
        return Err(bad(
            "q",
            format!(
                "must be {MIN_TEXT} to {MAX_TEXT} characters (leading and trailing spaces aside)"
            ),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(bad("q", "must not contain control characters"));
    }
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Ok(pattern)
}

fn error_kind(value: &str) -> Result<ErrorKind, BadFilter> {
    ErrorKind::parse(value).ok_or_else(|| {
        let known: Vec<&str> = ErrorKind::ALL.iter().map(|kind| kind.as_str()).collect();
        bad(
            "error_kind",
            format!("{value:?} is not one of {}", known.join(", ")),
        )
    })
}

fn http_status(value: &str) -> Result<i32, BadFilter> {
    value
        .parse::<i32>()
        .ok()
        .filter(|code| (100..=599).contains(code))
        .ok_or_else(|| bad("http_status", "must be a whole number from 100 to 599"))
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
            sort: Sort::Oldest,
        };
        let params = ListParams {
            status: Some("dead_lettered".into()),
            from: Some("2026-11-22T08:00:00Z".into()),
            to: Some("2026-11-22T10:00:00+01:00".into()),
            limit: Some("1000".into()),
            cursor: Some(cursor.encode()),
            correlation_id: Some("order-42/b".into()),
            trace_id: Some("4BF92F3577B34DA6A3CE929D0E0E4736".into()),
            q: Some("  50%_off\\ ".into()),
            error_kind: Some("server_error".into()),
            http_status: Some("503".into()),
            sort: Some("oldest".into()),
            overdue: Some("true".into()),
        };
        let filter = params.filter().unwrap();
        assert!(filter.overdue);
        assert_eq!(filter.status, Some(Status::DeadLettered));
        assert_eq!(filter.limit, 1000);
        assert_eq!(filter.after, Some(cursor), "the cursor round-trips");
        assert_eq!(filter.correlation_id.as_deref(), Some("order-42/b"));
        assert_eq!(
            filter.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            "folded to the stored lower case"
        );
        assert_eq!(
            filter.text_pattern.as_deref(),
            Some(r"%50\%\_off\\%"),
            "trimmed, LIKE's own characters escaped"
        );
        assert_eq!(filter.error_kind, Some(ErrorKind::ServerError));
        assert_eq!(filter.http_status, Some(503));
        assert_eq!(filter.sort, Sort::Oldest);
    }

    #[test]
    fn a_cursor_of_one_order_is_refused_for_the_other() {
        let cursor = Cursor {
            accepted_at: OffsetDateTime::UNIX_EPOCH,
            id: "a".into(),
            sort: Sort::Newest,
        };
        let params = ListParams {
            cursor: Some(cursor.encode()),
            sort: Some("oldest".into()),
            ..Default::default()
        };
        let refused = params.filter().unwrap_err();
        assert_eq!(refused.field, "cursor");
        assert!(refused.message.contains("sort=newest"), "{refused}");
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
            (
                ListParams {
                    correlation_id: Some("has space".into()),
                    ..Default::default()
                },
                "correlation_id",
            ),
            (
                ListParams {
                    correlation_id: Some("x".repeat(129)),
                    ..Default::default()
                },
                "correlation_id",
            ),
            (
                ListParams {
                    trace_id: Some("0".repeat(32)),
                    ..Default::default()
                },
                "trace_id",
            ),
            (
                ListParams {
                    trace_id: Some("xyz".into()),
                    ..Default::default()
                },
                "trace_id",
            ),
            (
                ListParams {
                    q: Some(" ab ".into()),
                    ..Default::default()
                },
                "q",
            ),
            (
                ListParams {
                    q: Some("é".repeat(201)),
                    ..Default::default()
                },
                "q",
            ),
            (
                ListParams {
                    q: Some("tab\there".into()),
                    ..Default::default()
                },
                "q",
            ),
            (
                ListParams {
                    error_kind: Some("bad_luck".into()),
                    ..Default::default()
                },
                "error_kind",
            ),
            (
                ListParams {
                    http_status: Some("600".into()),
                    ..Default::default()
                },
                "http_status",
            ),
            (
                ListParams {
                    sort: Some("random".into()),
                    ..Default::default()
                },
                "sort",
            ),
        ];
        for (params, field) in cases {
            assert_eq!(params.filter().unwrap_err().field, field, "{params:?}");
        }
    }
}
