//! An event's journey: accepted, each attempt, and how it ended, for every
//! replay generation; the payload as delivered, the fields kept but not
//! delivered, and the link to its trace.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::json;

use super::ConsoleContext;
use super::page::{self, Section};
use super::problem::ConsoleError;
use super::session::Session;
use crate::db::{self, EventView, HistoryEntry};

/// What the target was sent: the contract's fields and the brand.
fn as_delivered(event: &EventView) -> Option<serde_json::Value> {
    Some(json!({
        "id": event.id,
        "name": event.name.as_deref()?,
        "body": event.body.as_deref()?,
        "timestamp": event.timestamp?.unix_timestamp(),
        "brand": event.brand.as_deref()?,
    }))
}

fn step_label(step: &HistoryEntry) -> String {
    match step.status.as_str() {
        "accepted" => "Accepted".into(),
        "retrying" => format!("Attempt {} failed; retrying", step.attempt),
        "delivered" => format!("Delivered on attempt {}", step.attempt),
        "dead_lettered" => format!("Dead-lettered after attempt {}", step.attempt),
        "swept" => "Overdue: published again by the sweeper".into(),
        "overdue_failed" => "Overdue again after its sweep: given up on".into(),
        other => other.to_owned(),
    }
}

fn timeline(generation: i32, steps: &[&HistoryEntry]) -> Markup {
    let start = steps.first().map(|s| s.at);
    html! {
        section.generation aria-labelledby={ "gen-" (generation) } {
            h2 #{ "gen-" (generation) } {
                @if generation == 0 { "First delivery" } @else { "Redrive " (generation) }
            }
            ol.timeline {
                @for step in steps {
                    li class={ "step " (step.status) } {
                        div.what { strong { (step_label(step)) } }
                        div.when {
                            (page::time(Some(step.at)))
                            @if let Some(start) = start {
                                @let after = (step.at - start).whole_milliseconds();
                                @if after > 0 { span.muted { " +" (after) " ms" } }
                            }
                        }
                        @if step.http_status.is_some() || step.error_kind.is_some() || step.latency_ms.is_some() {
                            dl.facts {
                                @if let Some(code) = step.http_status { dt { "HTTP status" } dd { (code) } }
                                @if let Some(kind) = &step.error_kind { dt { "Error" } dd { (kind) } }
                                @if let Some(message) = &step.error_message { dt { "Detail" } dd { (message) } }
                                @if let Some(latency) = step.latency_ms { dt { "Latency" } dd { (latency) " ms" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /console/events/{id}`.
pub(crate) async fn journey(
    State(state): State<ConsoleContext>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let Some((event, history)) = db::find_event(&state.pool, &id).await? else {
        return Err(ConsoleError::NotFound(format!(
            "No event with id “{id}” has been projected. Events appear within a second of being accepted."
        )));
    };
    let mut generations: BTreeMap<i32, Vec<&HistoryEntry>> = BTreeMap::new();
    for step in &history {
        generations.entry(step.generation).or_default().push(step);
    }
    let trace_url = state
        .trace_link
        .as_ref()
        .zip(event.trace_id.as_deref())
        .map(|(link, trace)| link.url(trace));
    let extra: Option<serde_json::Value> = event
        .extra
        .as_ref()
        .and_then(|raw| serde_json::from_str(raw.get()).ok());
    let body = html! {
        dl.summary {
            dt { "Status" } dd { span class={ "status " (event.status) } { (event.status) } }
            dt { "Name" } dd { (event.name.as_deref().unwrap_or("—")) }
            dt { "Brand" } dd { (event.brand.as_deref().unwrap_or("—")) }
            dt { "Generation" } dd { (event.generation) }
            dt { "Attempts (this generation)" } dd { (event.attempts) }
            dt { "Accepted" } dd { (page::time(event.accepted_at)) }
            dt { "Delivered" } dd { (page::time(event.delivered_at)) }
            dt { "Correlation id" } dd {
                @if let Some(correlation) = &event.correlation_id {
                    a href={ "/console?q=" (page::encode_query(correlation)) } { (correlation) }
                } @else { span.muted { "—" } }
            }
            dt { "Trace" } dd {
                @match (&event.trace_id, &trace_url) {
                    (Some(trace), Some(url)) => { a href=(url) rel="noopener" { (trace) } }
                    (Some(trace), None) => { (trace) }
                    _ => { span.muted { "—" } }
                }
            }
        }
        @if session.can_act() && event.status == "dead_lettered" {
            form method="post" action="/console/redrives" {
                (page::csrf_field(&session))
                input type="hidden" name="id" value=(event.id);
                button type="submit" { "Preview a redrive of this event" }
            }
        }
        @for (generation, steps) in &generations {
            (timeline(*generation, steps))
        }
        @if history.is_empty() { p.muted { "No status recorded yet." } }
        h2 { "Payload as delivered" }
        @match as_delivered(&event) {
            Some(payload) => { (page::json_block(&payload)) }
            None => { p.muted { "Not known yet: the raw record or the brand is not projected." } }
        }
        h2 { "Fields kept but not delivered" }
        @match &extra {
            Some(extra) => { (page::json_block(extra)) }
            None => { p.muted { "None: the source sent only the contract's fields." } }
        }
    };
    Ok(page::page(
        &format!("Event {}", event.id),
        &session,
        Section::Find,
        None,
        body,
    ))
}
