//! What every service's OpenAPI document shares: the bearer-key scheme, and
//! the route that serves the document.

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::routing::get;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The scheme's name; `#[utoipa::path(security(("api_key" = [])))]` names it.
pub const BEARER_KEY: &str = "api_key";

/// Adds the `Authorization: Bearer <key>` scheme to a document.
#[derive(Debug)]
pub struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_KEY,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key, sent as `Authorization: Bearer <key>`."))
                    .build(),
            ),
        );
    }
}

/// The document, pretty-printed with a final newline: the form served and checked in.
pub fn openapi_json(openapi: &OpenApi) -> String {
    let mut json = openapi
        .to_pretty_json()
        .expect("an OpenAPI document always serializes");
    json.push('\n');
    json
}

/// `GET /openapi.json`, open to all: the API's description is not a secret.
/// Rendered once; each request shares the same bytes.
pub fn openapi_route(openapi: OpenApi) -> Router {
    let document = Bytes::from(openapi_json(&openapi));
    Router::new().route(
        "/openapi.json",
        get(move || {
            let document = document.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], document) }
        }),
    )
}
