//! Dead letters: every dead-lettered event, whether its letter is still on
//! the DLQ topic or, past the topic's retention, only in the archive: the
//! read model holds them all. Filtered by time, error kind and HTTP status;
//! some or all of them chosen for a redrive preview.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use orch_contracts::Status;
use serde::Deserialize;

use super::ConsoleContext;
use super::find::{self, error_kind_options};
use super::page::{self, Section};
use super::problem::ConsoleError;
use super::session::Session;
use crate::db;
use crate::listing::{self, Cursor, ListFilter, Sort};

/// Letters per page.
const PAGE: i64 = 100;

/// The dead-letter filter, as the list's form and the redrive preview send it.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize)]
pub(crate) struct LetterForm {
    #[serde(default)]
    pub(crate) error_kind: String,
    #[serde(default)]
    pub(crate) http_status: String,
    #[serde(default)]
    pub(crate) from: String,
    #[serde(default)]
    pub(crate) to: String,
}

impl LetterForm {
    /// The listing filter for these fields: dead-lettered events only.
    pub(crate) fn filter(&self, limit: i64) -> Result<ListFilter, ConsoleError> {
        let http_status = match self.http_status.trim() {
            "" => None,
            code => Some(
                code.parse::<i32>()
                    .ok()
                    .filter(|c| (100..=599).contains(c))
                    .ok_or_else(|| {
                        ConsoleError::BadInput(format!(
                            "HTTP status: {code:?} is not a number from 100 to 599"
                        ))
                    })?,
            ),
        };
        Ok(ListFilter {
            status: Some(Status::DeadLettered),
            error_kind: find::parse_error_kind(&self.error_kind)?,
            http_status,
            from: find::parse_time("from", &self.from)?,
            to: find::parse_time("to", &self.to)?,
            limit,
            sort: Sort::Newest,
            ..ListFilter::default()
        })
    }

    fn pairs<'a>(&'a self, cursor: &'a str) -> [(&'a str, &'a str); 5] {
        [
            ("error_kind", self.error_kind.as_str()),
            ("http_status", self.http_status.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("cursor", cursor),
        ]
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(flatten)]
    form: LetterForm,
    #[serde(default)]
    cursor: String,
}

/// `GET /console/dead-letters`.
pub(crate) async fn list(
    State(state): State<ConsoleContext>,
    session: Session,
    Query(query): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    let form = &query.form;
    let mut filter = form.filter(PAGE)?;
    let matching = {
        let cap = i64::from(state.console.config.redrive_max) + 1;
        db::matching_ids(&state.pool, &filter, cap).await?.len() as i64
    };
    if !query.cursor.is_empty() {
        filter.after = Some(
            Cursor::decode(&query.cursor)
                .ok_or_else(|| ConsoleError::BadInput("cursor: not one of ours".into()))?,
        );
    }
    let mut letters = db::list_events(&state.pool, &filter).await?;
    let next = listing::next_page(&mut letters, PAGE, Sort::Newest);
    let max = i64::from(state.console.config.redrive_max);
    let body = html! {
        p { "Events whose delivery ended in the dead-letter queue (on the DLQ topic, or in the archive once past the topic's retention), newest first." }
        form.search method="get" action="/console/dead-letters" {
            div.field {
                label for="error_kind" { "Reason (error kind)" }
                select #error_kind name="error_kind" { (error_kind_options(&form.error_kind)) }
            }
            div.field {
                label for="http_status" { "HTTP status" }
                input #http_status type="number" name="http_status" min="100" max="599" value=(form.http_status);
            }
            div.field {
                label for="from" { "Accepted from (UTC)" }
                input #from type="datetime-local" name="from" value=(form.from);
            }
            div.field {
                label for="to" { "Accepted before (UTC)" }
                input #to type="datetime-local" name="to" value=(form.to);
            }
            button type="submit" { "Filter" }
        }
        p.note role="status" {
            @if matching > max { "More than " (max) " dead letters match." }
            @else { (matching) " dead letter" @if matching != 1 { "s" } " match." }
        }
        @if letters.is_empty() {
            p.muted { "No dead letters match." }
        } @else if session.can_act() {
            form method="post" action="/console/redrives" {
                (page::csrf_field(&session))
                input type="hidden" name="error_kind" value=(form.error_kind);
                input type="hidden" name="http_status" value=(form.http_status);
                input type="hidden" name="from" value=(form.from);
                input type="hidden" name="to" value=(form.to);
                div.actions {
                    button type="submit" name="scope" value="selected" { "Preview a redrive of the selected" }
                    @if matching <= max {
                        button type="submit" name="scope" value="all" { "Preview a redrive of all " (matching) " matching" }
                    } @else {
                        span.muted { "Narrow the filter to " (max) " or fewer to redrive them all here, or use " code { "orchctl dlq redrive" } "." }
                    }
                }
                (find::results_table(&letters, true))
            }
        } @else {
            (find::results_table(&letters, false))
        }
        @if let Some(next) = next {
            p { a rel="next" href={ "/console/dead-letters?" (page::query_string(&form.pairs(&next))) } { "Older dead letters →" } }
        }
    };
    Ok(page::page(
        "Dead letters",
        &session,
        Section::DeadLetters,
        None,
        body,
    ))
}
