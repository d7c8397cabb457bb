/// W3C trace context parent header, carried on every record.
pub const HEADER_TRACEPARENT: &str = "traceparent";
/// W3C trace context vendor state, carried when the source sent one.
pub const HEADER_TRACESTATE: &str = "tracestate";
/// The record's schema version, so a reader can route old records before parsing.
pub const HEADER_SCHEMA: &str = "schema";
/// The source's own correlation id, kept beside the event when it sent one
/// (the same name as the HTTP header it came in).
pub const HEADER_CORRELATION_ID: &str = "x-correlation-id";
