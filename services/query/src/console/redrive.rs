//! Redrive from the console: a preview (how many, which ids, at what rate)
//! that is stored, then a confirmation that publishes exactly the previewed
//! events to the raw topic with their next generation, then progress until
//! each has ended again.
//!
//! The records are rebuilt from the read model (`crate::republish`):
//! a filter over millions of letters is answered from an index, and the
//! preview shows exactly what will be published, where reading the DLQ
//! topic and the archive would scan them all on every click.
//! `orchctl dlq redrive` reads the letters themselves, for wider redrives.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use maud::html;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ConsoleContext;
use super::audit;
use super::dead_letters::LetterForm;
use super::page::{self, Section};
use super::problem::ConsoleError;
use super::session::Session;
use crate::db;
use crate::republish::{StoredEvent, republish};

/// Ids shown in a preview; the rest are counted.
const SHOWN: usize = 100;

#[derive(Debug, Deserialize)]
pub(crate) struct PreviewForm {
    csrf: String,
    #[serde(default)]
    id: Vec<String>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    error_kind: String,
    #[serde(default)]
    http_status: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ConfirmForm {
    csrf: String,
}

/// `POST /console/redrives`: stores a preview of the chosen dead letters.
pub(crate) async fn preview(
    State(state): State<ConsoleContext>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<PreviewForm>,
) -> Result<Response, ConsoleError> {
    session.ops()?.check_form(&headers, &form.csrf)?;
    let max = state.console.config.redrive_max as usize;
    let filter = LetterForm {
        error_kind: form.error_kind,
        http_status: form.http_status,
        from: form.from,
        to: form.to,
    };
    let chosen: Vec<String> = if form.scope == "all" {
        let ids = db::matching_ids(&state.pool, &filter.filter(1)?, max as i64 + 1).await?;
        if ids.len() > max {
            return Err(ConsoleError::BadInput(format!(
                "More than {max} dead letters match; narrow the filter, or use `orchctl dlq redrive`."
            )));
        }
        ids
    } else {
        if form.id.is_empty() {
            return Err(ConsoleError::BadInput(
                "Choose at least one dead letter, or preview all that match.".into(),
            ));
        }
        if form.id.len() > max {
            return Err(ConsoleError::BadInput(format!(
                "At most {max} events in one console redrive."
            )));
        }
        form.id
    };
    let id = Uuid::new_v4();
    let mut tx = state.pool.begin().await?;
    sqlx::query("INSERT INTO console_redrives (id, key_name, filter) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(&session.key_name)
        .bind(sqlx::types::Json(json!({
            "scope": if form.scope == "all" { "all" } else { "selected" },
            "filter": &filter,
        })))
        .execute(&mut *tx)
        .await?;
    // Only events dead-lettered now, with their raw record projected, are
    // taken; each at the generation after the one that ended (none after
    // the last one an int holds, so a forged generation cannot fail it).
    sqlx::query(
        "INSERT INTO console_redrive_events (redrive_id, event_id, generation) \
         SELECT $1, id, status_generation + 1 FROM events \
         WHERE id = ANY($2) AND status = 'dead_lettered' AND name IS NOT NULL \
           AND status_generation < 2147483647 \
         ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .bind(&chosen)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/console/redrives/{id}")).into_response())
}

#[derive(Debug, sqlx::FromRow)]
struct Redrive {
    key_name: String,
    filter: sqlx::types::Json<serde_json::Value>,
    previewed_at: OffsetDateTime,
    confirmed_at: Option<OffsetDateTime>,
    published: Option<i32>,
}

async fn find(pool: &PgPool, id: Uuid) -> Result<Redrive, ConsoleError> {
    sqlx::query_as(
        "SELECT key_name, filter, previewed_at, confirmed_at, published \
         FROM console_redrives WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| ConsoleError::NotFound(format!("No redrive {id}.")))
}

fn parse_id(id: &str) -> Result<Uuid, ConsoleError> {
    Uuid::parse_str(id).map_err(|_| ConsoleError::NotFound(format!("No redrive {id:?}.")))
}

/// Where each redriven event stands.
#[derive(Debug, Default, sqlx::FromRow)]
struct Progress {
    delivered: i64,
    dead_lettered: i64,
    waiting: i64,
}

async fn progress(pool: &PgPool, id: Uuid) -> Result<Progress, sqlx::Error> {
    sqlx::query_as(
        "SELECT \
           count(*) FILTER (WHERE e.status_generation >= r.generation AND e.status = 'delivered') AS delivered, \
           count(*) FILTER (WHERE e.status_generation >= r.generation AND e.status = 'dead_lettered') AS dead_lettered, \
           count(*) FILTER (WHERE NOT (e.status_generation >= r.generation \
                                       AND e.status IN ('delivered', 'dead_lettered'))) AS waiting \
         FROM console_redrive_events r JOIN events e ON e.id = r.event_id \
         WHERE r.redrive_id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
}

/// `GET /console/redrives/{id}`: the preview, or the progress once confirmed.
pub(crate) async fn show(
    State(state): State<ConsoleContext>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = parse_id(&id)?;
    let redrive = find(&state.pool, id).await?;
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT event_id FROM console_redrive_events WHERE redrive_id = $1 ORDER BY event_id LIMIT $2",
    )
    .bind(id)
    .bind(SHOWN as i64 + 1)
    .fetch_all(&state.pool)
    .await?;
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM console_redrive_events WHERE redrive_id = $1")
            .bind(id)
            .fetch_one(&state.pool)
            .await?;
    let rate = state.console.probe.group_rate().await;
    let done = progress(&state.pool, id).await?;
    let running = redrive.confirmed_at.is_some() && done.waiting > 0;
    let body = html! {
        dl.summary {
            dt { "Previewed by" } dd { (redrive.key_name) " at " (page::time(Some(redrive.previewed_at))) }
            dt { "Filter" } dd { code { (redrive.filter.0.to_string()) } }
            dt { "Events" } dd #redrive-count { (count) }
            dt { "Delivery rate" } dd {
                @match rate {
                    Some(rate) if rate > 0 => {
                        (rate) " events/s for the whole group, so about "
                        (((count as f64) / f64::from(rate)).ceil()) " s of delivery beside new events"
                    }
                    _ => { "unknown (no dispatcher answered)" }
                }
            }
        }
        @if redrive.confirmed_at.is_none() {
            @if count == 0 {
                p.error role="alert" { "None of the chosen events is dead-lettered now (redriven already, or delivered since): nothing to publish." }
            } @else {
                p { "Confirming publishes these " (count) " events to the raw topic with their next generation. Nothing is published until then." }
                @if session.can_act() {
                    form method="post" action={ "/console/redrives/" (id) "/confirm" } {
                        (page::csrf_field(&session))
                        button #confirm type="submit" { "Confirm the redrive of " (count) " events" }
                        " "
                        a href="/console/dead-letters" { "Cancel" }
                    }
                }
            }
        } @else {
            h2 { "Progress" }
            p role="status" #progress {
                "Published " (redrive.published.unwrap_or(0)) " at " (page::time(redrive.confirmed_at)) ". "
                span #delivered { (done.delivered) } " delivered, "
                span #dead-lettered-again { (done.dead_lettered) } " dead-lettered again, "
                span #waiting { (done.waiting) } " on their way."
            }
            progress max=(count.max(1)) value=(done.delivered + done.dead_lettered) aria-label="Redrive progress" {}
        }
        h2 { "Event ids" }
        ul.ids {
            @for event in ids.iter().take(SHOWN) {
                li { a href=(page::event_path(event)) { (event) } }
            }
        }
        @if count > SHOWN as i64 { p.muted { "… and " (count - SHOWN as i64) " more." } }
    };
    Ok(page::page(
        "Redrive",
        &session,
        Section::DeadLetters,
        running.then_some(2),
        body,
    ))
}

/// `POST /console/redrives/{id}/confirm`: publishes the previewed events once.
pub(crate) async fn confirm(
    State(state): State<ConsoleContext>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ConfirmForm>,
) -> Result<Response, ConsoleError> {
    session.ops()?.check_form(&headers, &form.csrf)?;
    let id = parse_id(&id)?;
    // Taken once: a second click, or a second replica, finds it confirmed.
    let claimed = sqlx::query(
        "UPDATE console_redrives SET confirmed_at = now() WHERE id = $1 AND confirmed_at IS NULL",
    )
    .bind(id)
    .execute(&state.pool)
    .await?
    .rows_affected();
    if claimed == 0 {
        find(&state.pool, id).await?;
        return Ok(Redirect::to(&format!("/console/redrives/{id}")).into_response());
    }
    let stored: Vec<StoredEvent> = sqlx::query_as(
        "SELECT e.id, e.name, e.body, e.event_timestamp, e.accepted_at, e.trace_id, \
                e.correlation_id, e.extra::text AS extra, r.generation \
         FROM console_redrive_events r JOIN events e ON e.id = r.event_id \
         WHERE r.redrive_id = $1 AND e.name IS NOT NULL AND e.body IS NOT NULL",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let outcome = republish(
        &state.console.producer,
        &state.console.topics.raw,
        stored,
        "console_redrive",
    )
    .await;
    let (published, failure) = (outcome.ids.len(), outcome.failure);
    if let Some(error) = &failure {
        // Let it be confirmed again: re-publishing the same generation is
        // harmless (the dispatcher and projector take it once).
        tracing::error!(redrive = %id, published, %error, "Console redrive failed part-way.");
        sqlx::query("UPDATE console_redrives SET confirmed_at = NULL WHERE id = $1")
            .bind(id)
            .execute(&state.pool)
            .await?;
    } else {
        sqlx::query("UPDATE console_redrives SET published = $2 WHERE id = $1")
            .bind(id)
            .bind(i32::try_from(published).unwrap_or(i32::MAX))
            .execute(&state.pool)
            .await?;
    }
    audit::record(
        &state.pool,
        &session.key_name,
        session.role,
        "redrive",
        json!({"published": published, "failed": failure}),
        Some(id),
    )
    .await?;
    match failure {
        None => Ok(Redirect::to(&format!("/console/redrives/{id}")).into_response()),
        Some(error) => Err(ConsoleError::Unavailable(format!(
            "Published {published} events, then failed: {error}. Nothing was lost; confirm again to publish the rest."
        ))),
    }
}
