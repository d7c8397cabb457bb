//! The query API's OpenAPI document, generated from the handlers and types
//! themselves so it cannot drift from them.

use orch_http::{BearerKey, FieldError, Problem};
use utoipa::OpenApi;

use super::events;

/// The document served at `/openapi.json` and checked in as `docs/openapi/query.json`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Event Orchestrator query API",
        description = "What happened to each event: status, attempts, history, listings and counts. \
                       Every path is also served under /api/v1."
    ),
    paths(events::get_event, events::list_events, events::stats),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerKey),
    tags((name = "events", description = "Event look-ups for support (reader key)."))
)]
pub struct QueryApi;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_document_is_the_generated_one() {
        orch_testkit::assert_checked_in(
            "docs/openapi/query.json",
            &orch_http::openapi_json(&QueryApi::openapi()),
        );
    }
}
