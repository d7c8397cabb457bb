//! The query API's OpenAPI document, generated from the handlers and types
//! themselves so it cannot drift from them.

use orch_http::{BearerKey, FieldError, Problem};
use utoipa::OpenApi;

use super::{events, exports};

/// The document served at `/openapi.json` and checked in as `docs/openapi/query.json`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Event Orchestrator query API",
        description = "What happened to each event: status, attempts, history, listings and counts; \
                       and export jobs that write a date range of events to a file. \
                       Every path is also served under /api/v1."
    ),
    paths(
        events::get_event,
        events::list_events,
        events::stats,
        exports::create_export,
        exports::get_export,
        exports::list_exports
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerKey),
    tags(
        (name = "events", description = "Event look-ups for support (reader key)."),
        (name = "exports", description = "Export jobs: a date range of events as a file (reader key).")
    )
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
