//! Reading a `POST /events` request into an event: media type, correlation
//! id, JSON and fields, each refused with its own problem. Pure, so the
//! parser fuzz test drives it directly.

use axum::http::{HeaderMap, header};
use orch_http::Problem;
use serde_json::Value;

use crate::domain::NewEvent;

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Intake {
    /// The validated, normalised event.
    pub event: NewEvent,
    /// The source's `X-Correlation-Id`, if it sent one.
    pub correlation_id: Option<String>,
}

/// Checks a request in the order a client is told about problems: media type,
/// correlation id, then the body (which the caller may already have refused,
/// too large or unreadable).
pub fn read_request(headers: &HeaderMap, body: Result<&[u8], Problem>) -> Result<Intake, Problem> {
    if !is_json(headers) {
        return Err(Problem::unsupported_media_type());
    }
    let correlation_id = orch_http::correlation_id(headers)?.map(str::to_owned);
    let object = match serde_json::from_slice::<Value>(body?) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(Problem::malformed("The body must be a JSON object.")),
        Err(error) => {
            return Err(Problem::malformed(format!(
                "The body is not valid JSON: {error}."
            )));
        }
    };
    let event = NewEvent::from_json(object).map_err(Problem::invalid_fields)?;
    Ok(Intake {
        event,
        correlation_id,
    })
}

/// JSON is `application/json` or any `application/*+json`, with or without parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types_are_recognised() {
        for (value, expected) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/cloudevents+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(is_json(&headers), expected, "{value}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
