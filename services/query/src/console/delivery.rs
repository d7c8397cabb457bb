//! Delivery: pause, resume and the group rate (records on the control
//! topic, applied by every dispatcher replica within a second), each
//! replica's breaker and share, the rate in use, lag per partition, DLQ
//! growth and projection lag, with the last hour charted. Refreshes itself.

use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use maud::{Markup, html};
use orch_contracts::{ControlRecord, DeliveryControl, MAX_CONTROL_RATE, MAX_CONTROL_TEXT};
use rdkafka::producer::FutureRecord;
use serde::Deserialize;
use serde_json::json;

use super::ConsoleContext;
use super::audit;
use super::charts::{self, Line};
use super::page::{self, Section};
use super::problem::ConsoleError;
use super::replicas::Answer;
use super::sampler::Sample;
use super::session::Session;

/// Seconds between the page's own refreshes.
const REFRESH: u32 = 5;

#[derive(Debug, Deserialize)]
pub(crate) struct ControlForm {
    csrf: String,
    /// pause, resume or rate.
    action: String,
    #[serde(default)]
    reason: String,
    /// Events per second for the group, or empty to go back to the configured rate.
    #[serde(default)]
    rate: String,
    /// For a pause: when the reason says it ends (UTC), or empty.
    #[serde(default)]
    until: String,
}

fn reason(text: &str) -> Result<String, ConsoleError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ConsoleError::BadInput(
            "reason: say why (it is recorded with the control and shown to everyone)".into(),
        ));
    }
    if text.chars().count() > MAX_CONTROL_TEXT || text.chars().any(char::is_control) {
        return Err(ConsoleError::BadInput(format!(
            "reason: at most {MAX_CONTROL_TEXT} characters, on one line"
        )));
    }
    Ok(text.to_owned())
}

fn rate(text: &str) -> Result<Option<u32>, ConsoleError> {
    match text.trim() {
        "" | "configured" => Ok(None),
        value => value
            .parse::<u32>()
            .ok()
            .filter(|r| (1..=MAX_CONTROL_RATE).contains(r))
            .map(Some)
            .ok_or_else(|| {
                ConsoleError::BadInput(format!(
                    "rate: {value:?} is not events per second from 1 to {MAX_CONTROL_RATE} (leave it empty for the configured rate)"
                ))
            }),
    }
}

/// `POST /console/delivery/controls`.
pub(crate) async fn set_control(
    State(state): State<ConsoleContext>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<ControlForm>,
) -> Result<Response, ConsoleError> {
    session.ops()?.check_form(&headers, &form.csrf)?;
    let reason = reason(&form.reason)?;
    let control = match form.action.as_str() {
        "pause" => DeliveryControl::Pause { paused: true },
        "resume" => DeliveryControl::Pause { paused: false },
        "rate" => DeliveryControl::Rate {
            events_per_second: rate(&form.rate)?,
        },
        other => {
            return Err(ConsoleError::BadInput(format!(
                "action: {other:?} is not pause, resume or rate"
            )));
        }
    };
    let until = match control {
        DeliveryControl::Pause { paused: true } => super::find::parse_time("until", &form.until)?,
        _ => None,
    };
    let record = ControlRecord::new(control, reason, session.key_name.clone()).until(until);
    let topic = &state.console.topics.control;
    let payload = orch_contracts::to_json(&record);
    state
        .console
        .producer
        .send(
            FutureRecord::to(topic)
                .key(control.name().as_str())
                .payload(&payload),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(error, _)| {
            ConsoleError::Unavailable(format!(
                "The control could not be written to {topic}: {error}. Nothing changed."
            ))
        })?;
    audit::record(
        &state.pool,
        &session.key_name,
        session.role,
        form.action.as_str(),
        json!({ "control": record.control, "reason": record.reason, "until": until.map(|t| t.to_string()) }),
        None,
    )
    .await?;
    tracing::info!(by = %session.key_name, action = %form.action, "Delivery control set from the console.");
    Ok(Redirect::to("/console/delivery").into_response())
}

fn replicas_table(answers: &[Answer]) -> Markup {
    html! {
        div.scroll {
            table {
                thead { tr { th { "Replica" } th { "Breaker" } th { "Paused" } th { "Share" } th { "Rate now" } th { "Partitions" } th { "In flight" } } }
                tbody {
                    @for answer in answers {
                        tr {
                            td { code { (answer.url) } }
                            @match &answer.status {
                                Ok(status) => {
                                    td { span class={ "breaker " (status.breaker.state) } { (status.breaker.state) } }
                                    td { @if status.paused { "yes" } @else { "no" } }
                                    td.num { (format!("{:.1}", status.rate.share_per_second)) "/s" }
                                    td.num { (format!("{:.1}", status.rate.current_per_second)) "/s" }
                                    td { (format!("{:?}", status.rate.partitions_assigned)) }
                                    td.num { (status.in_flight) }
                                }
                                Err(why) => { td colspan="6" { span.error { (why) } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Per-minute rates from consecutive samples: the growth of a counter
/// between two looks, scaled to a minute.
fn per_minute(samples: &[Sample], value: impl Fn(&Sample) -> Option<f64>) -> Vec<f64> {
    samples
        .windows(2)
        .map(|pair| {
            let seconds = (pair[1].at - pair[0].at).as_seconds_f64().max(1.0);
            match (value(&pair[0]), value(&pair[1])) {
                (Some(before), Some(after)) => ((after - before).max(0.0)) * 60.0 / seconds,
                _ => 0.0,
            }
        })
        .collect()
}

fn delivered_per_minute(samples: &[Sample]) -> Vec<f64> {
    samples
        .windows(2)
        .map(|pair| {
            let seconds = (pair[1].at - pair[0].at).as_seconds_f64().max(1.0);
            pair[1].delivered.unwrap_or(0) as f64 * 60.0 / seconds
        })
        .collect()
}

/// `GET /console/delivery`.
pub(crate) async fn page(
    State(state): State<ConsoleContext>,
    session: Session,
) -> Result<Response, ConsoleError> {
    let probe = &state.console.probe;
    let answers = probe.replicas.ask().await;
    let first = answers.iter().find_map(|a| a.status.as_ref().ok());
    let samples = probe.samples();
    let latest = samples.last();
    let accepted = per_minute(&samples, |s| s.raw_end.map(|v| v as f64));
    let dead = per_minute(&samples, |s| s.dlq_end.map(|v| v as f64));
    let delivered = delivered_per_minute(&samples);
    let dispatch_lag: Vec<f64> = samples
        .iter()
        .map(|s| s.dispatch_lag.unwrap_or(0) as f64)
        .collect();
    let projection_lag: Vec<f64> = samples
        .iter()
        .map(|s| s.projection_lag.unwrap_or(0) as f64)
        .collect();
    let in_use = first.and_then(|status| {
        let per_second = delivered.last()? / 60.0;
        (status.rate.group_per_second > 0)
            .then(|| 100.0 * per_second / f64::from(status.rate.group_per_second))
    });
    let dlq_growth: Option<i64> = match (samples.first(), latest) {
        (Some(first), Some(last)) => last.dlq_end.zip(first.dlq_end).map(|(a, b)| a - b),
        _ => None,
    };
    let body = html! {
        section aria-labelledby="state" {
            h2 #state { "State" }
            dl.summary {
                dt { "Delivery" } dd #delivery-state {
                    @match first {
                        Some(status) if status.paused => {
                            strong.paused { "Paused" }
                            @if let Some(pause) = &status.pause { " by " (pause.by) ": " (pause.reason) }
                        }
                        Some(_) => { strong.running { "Running" } }
                        None => { "unknown (no dispatcher answered)" }
                    }
                }
                dt { "Group rate" } dd {
                    @match first {
                        Some(status) => {
                            (status.rate.group_per_second) " events/s"
                            @if status.rate.group_per_second != status.rate.configured_per_second {
                                " (set by a control; configured " (status.rate.configured_per_second) ")"
                            }
                        }
                        None => { "unknown" }
                    }
                }
                dt { "Rate limit in use" } dd #in-use {
                    @match in_use { Some(share) => { (format!("{share:.0}")) " % over the last sample" } None => { "unknown" } }
                }
                dt { "Dispatcher lag" } dd { (latest.and_then(|s| s.dispatch_lag).map_or("unknown".to_owned(), |l| l.to_string())) " events" }
                dt { "Projection lag" } dd { (latest.and_then(|s| s.projection_lag).map_or("unknown".to_owned(), |l| l.to_string())) " records" }
                dt { "DLQ growth (charted span)" } dd { (dlq_growth.map_or("unknown".to_owned(), |g| g.to_string())) " dead letters" }
            }
            @if let Some(error) = latest.and_then(|s| s.error.as_ref()) { p.error { "Kafka: " (error) } }
        }
        @if session.can_act() {
            section aria-labelledby="controls" {
                h2 #controls { "Controls" }
                form.controls method="post" action="/console/delivery/controls" {
                    (page::csrf_field(&session))
                    div.field.wide {
                        label for="reason" { "Reason (recorded and shown to everyone)" }
                        input #reason type="text" name="reason" maxlength=(MAX_CONTROL_TEXT) required;
                    }
                    div.field {
                        label for="until" { "Pause until, UTC (optional; past it the pause alert fires)" }
                        input #until type="datetime-local" name="until";
                    }
                    div.field {
                        label for="rate" { "Group rate, events/s (empty: configured)" }
                        input #rate type="number" name="rate" min="1" max=(MAX_CONTROL_RATE);
                    }
                    div.actions {
                        button #pause type="submit" name="action" value="pause" { "Pause delivery" }
                        button #resume type="submit" name="action" value="resume" { "Resume delivery" }
                        button #set-rate type="submit" name="action" value="rate" { "Set the rate" }
                    }
                }
            }
        }
        section aria-labelledby="replicas" {
            h2 #replicas { "Dispatcher replicas" }
            @if !probe.replicas.configured() {
                p.muted { "No dispatcher addresses configured (QUERY_DISPATCHER_URLS)." }
            } @else { (replicas_table(&answers)) }
        }
        section aria-labelledby="charts" {
            h2 #charts { "Last hour" }
            (charts::chart("Events per minute", "events/min", &[
                Line { name: "accepted", points: &accepted, class: "accepted" },
                Line { name: "delivered", points: &delivered, class: "delivered" },
                Line { name: "dead-lettered", points: &dead, class: "dead" },
            ]))
            (charts::chart("Lag", "records", &[
                Line { name: "dispatcher lag", points: &dispatch_lag, class: "lag" },
                Line { name: "projection lag", points: &projection_lag, class: "projection" },
            ]))
        }
        @if let Some(sample) = latest {
            section aria-labelledby="partitions" {
                h2 #partitions { "Lag per partition" }
                div.scroll {
                    table {
                        thead { tr { th { "Partition" } th { "End" } th { "Committed" } th { "Lag" } } }
                        tbody {
                            @for p in &sample.partitions {
                                tr {
                                    td.num { (p.partition) }
                                    td.num { (p.end) }
                                    td.num { (p.committed.map_or("—".to_owned(), |c| c.to_string())) }
                                    td.num { (p.lag) }
                                }
                            }
                        }
                    }
                }
                p.muted { "Sampled at " (page::time(Some(sample.at))) "." }
            }
        }
    };
    Ok(page::page(
        "Delivery",
        &session,
        Section::Delivery,
        Some(REFRESH),
        body,
    ))
}
