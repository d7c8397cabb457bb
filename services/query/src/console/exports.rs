//! Exports: start an export of a time range and download its file once it
//! is written (the same jobs as `POST /exports`).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use maud::html;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::ConsoleContext;
use super::audit;
use super::find::{parse_status, parse_time, status_options};
use super::page::{self, Section};
use super::problem::ConsoleError;
use super::session::Session;
use crate::exports::{jobs, request};

/// Jobs listed.
const SHOWN: i64 = 50;

#[derive(Debug, Deserialize)]
pub(crate) struct StartForm {
    csrf: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    format: String,
}

fn off() -> ConsoleError {
    ConsoleError::Unavailable(
        "Exports are off in this deployment: the query service has no OBJECT_STORE_BUCKET.".into(),
    )
}

/// `POST /console/exports`: starts a job. Reading the events out is seeing
/// them, so a reader may start one too, as over the API; it is recorded.
pub(crate) async fn start(
    State(state): State<ConsoleContext>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Result<Response, ConsoleError> {
    session.check_form(&headers, &form.csrf)?;
    let exports = state.exports.as_ref().ok_or_else(off)?;
    let mut body = Map::new();
    for (field, value) in [("from", &form.from), ("to", &form.to)] {
        let at = parse_time(field, value)?.ok_or_else(|| {
            ConsoleError::BadInput(format!(
                "{field}: required (a time like 2026-12-03T09:30, UTC)"
            ))
        })?;
        let text = at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        body.insert(field.into(), Value::String(text));
    }
    if let Some(status) = parse_status(&form.status)? {
        body.insert("status".into(), Value::String(status.as_str().into()));
    }
    if !form.format.is_empty() {
        body.insert("format".into(), Value::String(form.format.clone()));
    }
    let new = request::parse(&body, exports.settings.export_max_range_days).map_err(|errors| {
        let named: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        ConsoleError::BadInput(named.join("; "))
    })?;
    let job = jobs::create(&state.pool, &new).await?;
    audit::record(
        &state.pool,
        &session.key_name,
        session.role,
        "export",
        json!({ "job": job.id.to_string(), "request": body }),
        None,
    )
    .await?;
    Ok(Redirect::to("/console/exports").into_response())
}

/// `GET /console/exports`.
pub(crate) async fn list(
    State(state): State<ConsoleContext>,
    session: Session,
) -> Result<Response, ConsoleError> {
    let Some(exports) = &state.exports else {
        return Err(off());
    };
    let recent = jobs::recent(&state.pool, SHOWN).await?;
    let mut views = Vec::with_capacity(recent.len());
    for job in &recent {
        views.push(exports.view(job).await);
    }
    let running = views
        .iter()
        .any(|v| v.state == "not_started" || v.state == "started");
    let body = html! {
        form.search method="post" action="/console/exports" {
            (page::csrf_field(&session))
            div.field {
                label for="from" { "Accepted from (UTC)" }
                input #from type="datetime-local" name="from" required;
            }
            div.field {
                label for="to" { "Accepted before (UTC)" }
                input #to type="datetime-local" name="to" required;
            }
            div.field {
                label for="status" { "Status" }
                select #status name="status" { (status_options("")) }
            }
            div.field {
                label for="format" { "Format" }
                select #format name="format" {
                    option value="ndjson" { "NDJSON" }
                    option value="csv" { "CSV" }
                }
            }
            button type="submit" { "Start the export" }
        }
        div.scroll {
            table {
                thead { tr { th { "Asked" } th { "Range" } th { "Status filter" } th { "Format" } th { "State" } th { "Rows" } th { "File" } } }
                tbody {
                    @for view in &views {
                        tr {
                            td { (page::time(Some(view.created_at))) }
                            td { (page::time(Some(view.from))) " – " (page::time(Some(view.to))) }
                            td { (view.filters.status.as_deref().unwrap_or("any")) }
                            td { (view.format) }
                            td { span class={ "job " (view.state) } { (view.state) } @if let Some(error) = &view.error { " — " (error) } }
                            td.num { (view.rows) }
                            td {
                                @if let Some(uri) = &view.export_uri {
                                    a href=(uri) download { "Download" }
                                } @else { span.muted { "—" } }
                            }
                        }
                    }
                }
            }
        }
        @if views.is_empty() { p.muted { "No exports yet." } }
    };
    Ok(page::page(
        "Exports",
        &session,
        Section::Exports,
        running.then_some(3),
        body,
    ))
}
