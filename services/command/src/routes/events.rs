use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use orch_contracts::{HEADER_CORRELATION_ID, RawEventRecord};
use orch_http::Problem;
use orch_telemetry::EventContext;
use orch_telemetry::InternalEvent as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument as _;
use tracing::field::Empty;

use super::ingest_error::IngestError;
use crate::intake::{self, Intake};
use crate::internal_events::{EventAccepted, EventNotDurable};
use crate::state::AppState;

pub(super) fn router(state: AppState) -> Router {
    Router::new()
        .route("/events", post(accept))
        .route("/api/v1/events", post(accept))
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .route_layer(axum::middleware::from_fn_with_state(
            state.source_keys.clone(),
            orch_http::require_key,
        ))
        .route_layer(axum::middleware::from_fn(orch_http::trace_requests))
        .with_state(state)
}

// Documentation only: the handler checks the JSON itself so that a 422 can
// name every bad field at once.
/// An event as the source sends it. Any other field is kept, never delivered,
/// if no text in it holds U+0000 and its arrays and objects nest at most 32
/// levels deep; its numbers are kept as 64-bit integers or doubles.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct EventSubmission {
    /// The source's unique id: 1 to 256 bytes, no control characters.
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    id: String,
    /// Event name; any text but U+0000.
    #[schema(pattern = "^[^\\u0000]*$")]
    name: String,
    /// Event body; any text but U+0000.
    #[schema(pattern = "^[^\\u0000]*$")]
    body: String,
    /// An RFC 3339 time (e.g. `2026-11-21T10:00:00Z`), or Unix epoch seconds or
    /// milliseconds as an integer or a string of digits; 1970 to 2038.
    #[schema(schema_with = event_time_schema)]
    timestamp: Value,
}

/// The three forms a time may take, so generated clients and fuzzers know them.
fn event_time_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{
        KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
    };
    Schema::OneOf(
        OneOfBuilder::new()
            .description(Some(
                "An RFC 3339 time (e.g. `2026-11-21T10:00:00Z`), or Unix epoch seconds or \
             milliseconds as an integer or a string of digits; 1970 to 2038.",
            ))
            .examples([serde_json::json!("2026-11-21T10:00:00Z")])
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .maximum(Some(2_147_483_647_999_i64)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[0-9]{1,13}$")),
            )
            .build(),
    )
}

/// What the source gets back once its event is durable.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AcceptedEvent {
    /// The event's id, as sent.
    id: String,
    /// Always `accepted`.
    status: &'static str,
    /// The W3C trace id the event travels with.
    trace_id: String,
    /// Where support can follow it (also in the `Location` header).
    status_url: String,
}

/// Validates an event, makes it durable (Kafka, or the local spool while
/// Kafka is away) and answers 202 well within the source's 500 ms. Fields
/// beyond the contract are kept with the event but not delivered.
#[utoipa::path(
    post,
    path = "/events",
    request_body(content = EventSubmission, content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: the event is durable and will be delivered.", body = AcceptedEvent,
         headers(("Location" = String, description = "The event's status URL."))),
        (status = 400, description = "The body is not a JSON object, or `X-Correlation-Id` is not 1 to 128 visible ASCII characters.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown source key.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than the limit.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not JSON.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields are missing or invalid; each is named.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The event was not confirmed durable in time, so it is not accepted; it may still arrive, and sending it again is safe (the id makes a repeat harmless).", body = Problem, content_type = "application/problem+json"),
    ),
    params(
        ("traceparent" = Option<String>, Header, description = "W3C trace context to continue; a new trace starts without one."),
        ("X-Correlation-Id" = Option<String>, Header, description = "The source's own id for the request: kept with the event, logged, and sent on to the target."),
    ),
    security(("api_key" = [])),
    tag = "events"
)]
#[tracing::instrument(name = "accept_event", skip_all, fields(event_id = Empty))]
pub(crate) async fn accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, IngestError> {
    let body = match &body {
        Ok(body) => Ok(&body[..]),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Err(Problem::too_large(state.max_body_bytes))
        }
        Err(rejection) => Err(Problem::malformed(rejection.body_text())),
    };
    let Intake {
        event,
        correlation_id,
    } = intake::read_request(&headers, body).map_err(IngestError::Refused)?;

    tracing::Span::current().record("event_id", event.id.as_str());
    // The record's headers name the publish span, so the dispatcher's and the
    // projector's spans hang under the write that handed the event to Kafka.
    let publish_span = tracing::info_span!(
        "publish_raw_event",
        otel.kind = "producer",
        messaging.system = "kafka",
        messaging.destination.name = %state.raw_topic,
    );
    let context = EventContext {
        trace: orch_telemetry::trace_headers(&publish_span),
        correlation_id,
    };
    let record = RawEventRecord {
        correlation_id: context.correlation_id.clone(),
        ..RawEventRecord::new(
            event.id,
            event.name,
            event.body,
            event.timestamp.utc(),
            context.trace.trace_id().to_owned(),
            event.extra,
        )
    };
    let publish = state
        .publisher
        .publish(&record, &context)
        .instrument(publish_span);
    let durable_in = match tokio::time::timeout(state.request_deadline, publish).await {
        Ok(Ok(durable)) => durable,
        Err(_) => {
            EventNotDurable::Deadline.emit();
            return Err(IngestError::NotDurableInTime);
        }
        Ok(Err(error)) => {
            EventNotDurable::Failed(&error).emit();
            return Err(IngestError::NotDurable);
        }
    };
    EventAccepted { durable_in }.emit();

    let status_url = format!(
        "{}/events/{}",
        state.status_base_url.trim_end_matches('/'),
        percent_encode_path_segment(&record.id)
    );
    let mut response = (
        StatusCode::ACCEPTED,
        Json(AcceptedEvent {
            id: record.id.into_string(),
            status: "accepted",
            trace_id: record.trace_id,
            status_url: status_url.clone(),
        }),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&status_url) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if let Some(value) = context
        .correlation_id
        .and_then(|id| HeaderValue::from_str(&id).ok())
    {
        response.headers_mut().insert(HEADER_CORRELATION_ID, value);
    }
    Ok(response)
}

/// Ids may hold `/`, `?`, spaces or any Unicode: escape all but the unreserved
/// characters so the status URL always names this one event.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn percent_encode_path_segment(segment: &str) -> String {
    utf8_percent_encode(segment, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_url_segment_escapes_reserved_characters() {
        assert_eq!(percent_encode_path_segment("e1"), "e1");
        assert_eq!(percent_encode_path_segment("a/b c?é"), "a%2Fb%20c%3F%C3%A9");
    }
}
