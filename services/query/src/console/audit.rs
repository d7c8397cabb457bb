//! The audit log: who did what, when, and the preview it followed. Written
//! in the same request as the action; shown newest first.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use sqlx::PgPool;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::ConsoleContext;
use super::page::{self, Section};
use super::problem::ConsoleError;
use super::session::{Role, Session};

/// Entries per page.
const PAGE: i64 = 100;

/// Records one action.
pub(crate) async fn record(
    pool: &PgPool,
    key_name: &str,
    role: Role,
    action: &str,
    detail: serde_json::Value,
    preview_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO console_audit (key_name, role, action, detail, preview_id) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key_name)
    .bind(role.as_str())
    .bind(action)
    .bind(Json(detail))
    .bind(preview_id)
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
struct Entry {
    id: i64,
    at: OffsetDateTime,
    key_name: String,
    role: String,
    action: String,
    detail: Json<serde_json::Value>,
    preview_id: Option<Uuid>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Before {
    before: Option<i64>,
}

/// `GET /console/audit`: the newest entries, a page at a time.
pub(crate) async fn list(
    State(state): State<ConsoleContext>,
    session: Session,
    Query(before): Query<Before>,
) -> Result<Response, ConsoleError> {
    let entries: Vec<Entry> = sqlx::query_as(
        "SELECT id, at, key_name, role, action, detail, preview_id FROM console_audit \
         WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(before.before)
    .bind(PAGE)
    .fetch_all(&state.pool)
    .await?;
    let older = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let body = html! {
        p { "Every sign-in and every action taken in the console, newest first." }
        div.scroll {
            table {
                thead { tr { th { "When" } th { "Who" } th { "Role" } th { "Action" } th { "Detail" } th { "After preview" } } }
                tbody {
                    @for entry in &entries {
                        tr {
                            td { (page::time(Some(entry.at))) }
                            td { (entry.key_name) }
                            td { (entry.role) }
                            td { (entry.action) }
                            td { code { (entry.detail.0.to_string()) } }
                            td {
                                @if let Some(preview) = entry.preview_id {
                                    a href={ "/console/redrives/" (preview) } { (preview) }
                                } @else { span.muted { "—" } }
                            }
                        }
                    }
                }
            }
        }
        @if entries.is_empty() { p.muted { "Nothing recorded yet." } }
        @if let Some(older) = older {
            p { a href={ "/console/audit?before=" (older) } { "Older entries" } }
        }
    };
    Ok(page::page(
        "Audit log",
        &session,
        Section::Audit,
        None,
        body,
    ))
}
