use orch_contracts::{HEADER_SCHEMA, HEADER_TRACEPARENT, HEADER_TRACESTATE, SCHEMA_VERSION};
use rdkafka::message::{Header, Headers, OwnedHeaders};

/// The headers every record carries: trace context and the schema version.
pub fn record_headers(traceparent: &str, tracestate: Option<&str>) -> OwnedHeaders {
    let schema = SCHEMA_VERSION.to_string();
    let headers = OwnedHeaders::new_with_capacity(3)
        .insert(Header {
            key: HEADER_TRACEPARENT,
            value: Some(traceparent),
        })
        .insert(Header {
            key: HEADER_SCHEMA,
            value: Some(schema.as_str()),
        });
    match tracestate {
        Some(state) => headers.insert(Header {
            key: HEADER_TRACESTATE,
            value: Some(state),
        }),
        None => headers,
    }
}

/// The first header named `name`, if it is present and UTF-8.
pub fn header_str<'a, H: Headers>(headers: &'a H, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|header| header.key == name)
        .and_then(|header| header.value)
        .and_then(|value| std::str::from_utf8(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_carry_trace_and_schema() {
        let headers = record_headers("00-ab-cd-01", Some("k=v"));
        assert_eq!(
            header_str(&headers, HEADER_TRACEPARENT),
            Some("00-ab-cd-01")
        );
        assert_eq!(header_str(&headers, HEADER_SCHEMA), Some("1"));
        assert_eq!(header_str(&headers, HEADER_TRACESTATE), Some("k=v"));
        let bare = record_headers("00-ab-cd-01", None);
        assert_eq!(header_str(&bare, HEADER_TRACESTATE), None);
    }
}
