//! The export file's formats: one JSON object per line, or CSV with a header.

use crate::db::EventView;

/// An export file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// One JSON object per line, as `GET /events/{id}` shows an event.
    Ndjson,
    /// RFC 4180 CSV with a header row; `extra` as a JSON string.
    Csv,
}

/// The CSV columns, in order.
const CSV_HEADER: [&str; 17] = [
    "id",
    "name",
    "body",
    "timestamp",
    "brand",
    "status",
    "attempts",
    "generation",
    "last_http_status",
    "last_error_kind",
    "last_error_message",
    "accepted_at",
    "delivered_at",
    "updated_at",
    "trace_id",
    "correlation_id",
    "extra",
];

impl Format {
    /// The wire and database name.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }

    /// The format named `name`, if any.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "ndjson" => Some(Format::Ndjson),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// What a download is served as.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The file's first bytes (the CSV header).
    pub(crate) fn start(self) -> Vec<u8> {
        match self {
            Format::Ndjson => Vec::new(),
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(Vec::new());
                let _ = writer.write_record(CSV_HEADER);
                writer.into_inner().unwrap_or_default()
            }
        }
    }

    /// Appends one event to `out`.
    pub(crate) fn write(self, event: &EventView, out: &mut Vec<u8>) {
        match self {
            Format::Ndjson => {
                // An EventView always serialises; its fields are plain data.
                let _ = serde_json::to_writer(&mut *out, event);
                out.push(b'\n');
            }
            Format::Csv => {
                let time = |at: Option<time::OffsetDateTime>| {
                    at.and_then(|at| {
                        at.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    })
                    .unwrap_or_default()
                };
                let number = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
                let text = |t: &Option<String>| t.clone().unwrap_or_default();
                let mut writer = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(&mut *out);
                let _ = writer.write_record([
                    event.id.clone(),
                    text(&event.name),
                    text(&event.body),
                    time(event.timestamp),
                    text(&event.brand),
                    event.status.clone(),
                    event.attempts.to_string(),
                    event.generation.to_string(),
                    number(event.last_http_status),
                    text(&event.last_error_kind),
                    text(&event.last_error_message),
                    time(event.accepted_at),
                    time(event.delivered_at),
                    time(Some(event.updated_at)),
                    text(&event.trace_id),
                    text(&event.correlation_id),
                    event
                        .extra
                        .as_ref()
                        .map(|extra| extra.0.get().to_owned())
                        .unwrap_or_default(),
                ]);
                let _ = writer.flush();
            }
        }
    }
}
