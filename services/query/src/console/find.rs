//! Find: one box that takes an event id, a trace id, a correlation id or
//! text, with filters; results newest first, a page at a time.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use orch_contracts::{ErrorKind, Status};
use serde::Deserialize;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::ConsoleContext;
use super::page::{self, Section};
use super::problem::ConsoleError;
use super::session::Session;
use crate::db::{self, EventView};
use crate::listing::{self, Cursor, ListFilter, Sort};

/// Results per page.
const PAGE: i64 = 50;

/// The search form as sent; every field optional and checked here.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FindForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    error_kind: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    cursor: String,
}

/// How the box's text was read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reading {
    Everything,
    TraceId(String),
    CorrelationId(String),
    Text(String),
}

impl Reading {
    fn describe(&self) -> Option<String> {
        match self {
            Self::Everything => None,
            Self::TraceId(id) => Some(format!("Events of trace {id}")),
            Self::CorrelationId(id) => Some(format!("Events with correlation id {id}")),
            Self::Text(text) => Some(format!("Events whose name or body contains “{text}”")),
        }
    }
}

/// A `datetime-local` value (no zone; the form says UTC) or RFC 3339.
pub(crate) fn parse_time(field: &str, value: &str) -> Result<Option<OffsetDateTime>, ConsoleError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339) {
        return Ok(Some(at));
    }
    let minutes = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(value, &minutes)
        .or_else(|_| PrimitiveDateTime::parse(value, &seconds))
        .map(|at| Some(at.assume_utc()))
        .map_err(|_| {
            ConsoleError::BadInput(format!(
                "{field}: {value:?} is not a time like 2026-12-03T09:30 (UTC)"
            ))
        })
}

/// The status filter's value, if one was chosen.
pub(crate) fn parse_status(value: &str) -> Result<Option<Status>, ConsoleError> {
    match value {
        "" => Ok(None),
        name => Status::parse(name)
            .map(Some)
            .ok_or_else(|| ConsoleError::BadInput(format!("status: {name:?} is not a status"))),
    }
}

/// The error-kind filter's value, if one was chosen.
pub(crate) fn parse_error_kind(value: &str) -> Result<Option<ErrorKind>, ConsoleError> {
    match value {
        "" => Ok(None),
        name => ErrorKind::parse(name).map(Some).ok_or_else(|| {
            ConsoleError::BadInput(format!("error kind: {name:?} is not an error kind"))
        }),
    }
}

/// The `<option>`s of a status select.
pub(crate) fn status_options(chosen: &str) -> Markup {
    html! {
        option value="" selected[chosen.is_empty()] { "Any status" }
        @for status in Status::ALL {
            option value=(status.as_str()) selected[chosen == status.as_str()] { (status.as_str()) }
        }
    }
}

/// The `<option>`s of an error-kind select.
pub(crate) fn error_kind_options(chosen: &str) -> Markup {
    html! {
        option value="" selected[chosen.is_empty()] { "Any error kind" }
        @for kind in ErrorKind::ALL {
            option value=(kind.as_str()) selected[chosen == kind.as_str()] { (kind.as_str()) }
        }
    }
}

/// The results table, shared with the dead-letter list.
pub(crate) fn results_table(events: &[EventView], selectable: bool) -> Markup {
    html! {
        div.scroll {
            table.results {
                thead {
                    tr {
                        @if selectable { th { span.sr { "Select" } } }
                        th { "Event" } th { "Name" } th { "Status" } th { "Attempts" }
                        th { "Last error" } th { "Accepted" } th { "Correlation id" }
                    }
                }
                tbody {
                    @for event in events {
                        tr {
                            @if selectable {
                                td {
                                    input type="checkbox" name="id" value=(event.id)
                                        aria-label={ "Select " (event.id) };
                                }
                            }
                            td { a href=(page::event_path(&event.id)) { (event.id) } }
                            td { (event.name.as_deref().unwrap_or("—")) }
                            td { span class={ "status " (event.status) } { (event.status) } }
                            td.num { (event.attempts) }
                            td {
                                @if let Some(kind) = &event.last_error_kind {
                                    (kind)
                                    @if let Some(code) = event.last_http_status { " (" (code) ")" }
                                } @else { span.muted { "—" } }
                            }
                            td { (page::time(event.accepted_at)) }
                            td { (event.correlation_id.as_deref().unwrap_or("—")) }
                        }
                    }
                }
            }
        }
    }
}

async fn read(state: &ConsoleContext, text: &str) -> Result<Result<Reading, String>, ConsoleError> {
    if text.is_empty() {
        return Ok(Ok(Reading::Everything));
    }
    if let Ok(trace) = listing::trace_id(text) {
        return Ok(Ok(Reading::TraceId(trace)));
    }
    let correlation_shaped = text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic());
    if correlation_shaped {
        let probe = ListFilter {
            correlation_id: Some(text.to_owned()),
            limit: 1,
            ..ListFilter::default()
        };
        if !db::list_events(&state.pool, &probe).await?.is_empty() {
            return Ok(Ok(Reading::CorrelationId(text.to_owned())));
        }
    }
    if text.chars().count() < listing::MIN_TEXT {
        return Ok(Err(format!(
            "No event has the id or correlation id “{text}”; type at least {} characters to search text.",
            listing::MIN_TEXT
        )));
    }
    Ok(Ok(Reading::Text(text.to_owned())))
}

/// `GET /console`: the search page.
pub(crate) async fn find(
    State(state): State<ConsoleContext>,
    session: Session,
    Query(form): Query<FindForm>,
) -> Result<Response, ConsoleError> {
    let text = form.q.trim();
    if text.len() > listing::MAX_TEXT * 4 {
        return Err(ConsoleError::BadInput(
            "search: at most 200 characters".into(),
        ));
    }
    if !text.is_empty() && db::find_event(&state.pool, text).await?.is_some() {
        let to = page::event_path(text);
        return Ok(Redirect::to(&to).into_response());
    }
    let mut filter = ListFilter {
        status: parse_status(&form.status)?,
        error_kind: parse_error_kind(&form.error_kind)?,
        from: parse_time("from", &form.from)?,
        to: parse_time("to", &form.to)?,
        limit: PAGE,
        sort: Sort::Newest,
        ..ListFilter::default()
    };
    if !form.cursor.is_empty() {
        filter.after = Some(
            Cursor::decode(&form.cursor)
                .ok_or_else(|| ConsoleError::BadInput("cursor: not one of ours".into()))?,
        );
    }
    let reading = read(&state, text).await?;
    let (events, note) = match &reading {
        Err(note) => (Vec::new(), Some(note.clone())),
        Ok(reading) => {
            match reading {
                Reading::Everything => {}
                Reading::TraceId(id) => filter.trace_id = Some(id.clone()),
                Reading::CorrelationId(id) => filter.correlation_id = Some(id.clone()),
                Reading::Text(text) => {
                    let parsed = listing::text_pattern(text)
                        .map_err(|bad| ConsoleError::BadInput(bad.to_string()))?;
                    filter.text_pattern = Some(parsed);
                }
            }
            (
                db::list_events(&state.pool, &filter).await?,
                reading.describe(),
            )
        }
    };
    let mut events = events;
    let next = listing::next_page(&mut events, PAGE, Sort::Newest);
    let body = html! {
        form.search method="get" action="/console" role="search" {
            div.field.wide {
                label for="q" { "Event id, correlation id, trace id or text" }
                input #q type="search" name="q" value=(text) maxlength="200" autofocus;
            }
            div.field {
                label for="status" { "Status" }
                select #status name="status" { (status_options(&form.status)) }
            }
            div.field {
                label for="error_kind" { "Error kind" }
                select #error_kind name="error_kind" { (error_kind_options(&form.error_kind)) }
            }
            div.field {
                label for="from" { "Accepted from (UTC)" }
                input #from type="datetime-local" name="from" value=(form.from);
            }
            div.field {
                label for="to" { "Accepted before (UTC)" }
                input #to type="datetime-local" name="to" value=(form.to);
            }
            button type="submit" { "Search" }
        }
        @if let Some(note) = &note { p.note role="status" { (note) } }
        @if events.is_empty() {
            p.muted { "No events match." }
        } @else {
            (results_table(&events, false))
        }
        @if let Some(next) = next {
            p {
                a rel="next" href={ "/console?" (page::query_string(&[
                    ("q", text), ("status", &form.status), ("error_kind", &form.error_kind),
                    ("from", &form.from), ("to", &form.to), ("cursor", &next),
                ])) } { "Older events →" }
            }
        }
    };
    Ok(page::page(
        "Find an event",
        &session,
        Section::Find,
        None,
        body,
    ))
}
