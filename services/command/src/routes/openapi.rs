//! The command API's OpenAPI document, generated from the handler and types
//! themselves so it cannot drift from them.

use orch_http::{BearerKey, FieldError, Problem};
use utoipa::OpenApi;

use super::events;

/// The document served at `/openapi.json` and checked in as `docs/openapi/command.json`.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Event Orchestrator command API",
        description = "Where the source sends events. Every path is also served under /api/v1."
    ),
    paths(events::accept),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerKey),
    tags((name = "events", description = "Event ingest for the source (source key)."))
)]
pub struct CommandApi;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_document_is_the_generated_one() {
        orch_testkit::assert_checked_in(
            "docs/openapi/command.json",
            &orch_http::openapi_json(&CommandApi::openapi()),
        );
    }
}
