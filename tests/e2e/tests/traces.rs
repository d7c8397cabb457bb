//! One trace through every hop. The test process exports its spans over
//! OTLP/HTTP (JSON) to a receiver it runs itself; with the
//! `parentbased_always_off` sampler only requests that arrive with a sampled
//! `traceparent` are recorded, so other tests' events add no spans.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use orch_contracts::{HEADER_CORRELATION_ID, HEADER_TRACEPARENT, StatusRecord};
use orch_telemetry::{OtlpProtocol, SamplerName, TelemetryConfig, TelemetryGuard};
use rdkafka::Message;
use serde_json::{Value, json};

use crate::support::{Options, PATIENCE, event, spawn_pipeline};

/// Spans the receiver got, as OTLP JSON span objects.
type Spans = Arc<Mutex<Vec<Value>>>;

struct Telemetry {
    guard: TelemetryGuard,
    spans: Spans,
}

fn telemetry() -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(|| {
        let (endpoint, spans) = start_receiver();
        let config = TelemetryConfig {
            // Logs would bypass the test harness's capture and drown its report.
            log_filter: "off".into(),
            otel_exporter_otlp_traces_endpoint: Some(endpoint),
            otel_exporter_otlp_protocol: OtlpProtocol::HttpJson,
            otel_traces_sampler: SamplerName::ParentBasedAlwaysOff,
            ..TelemetryConfig::local()
        };
        let guard = orch_telemetry::init(&config, "orch-e2e").expect("telemetry installs once");
        Telemetry { guard, spans }
    })
}

/// Installs tracing for the whole test process, as each binary's `main` does.
pub(crate) fn install() {
    telemetry();
}

/// An OTLP/HTTP receiver on its own thread and runtime: tests come and go
/// with their runtimes, the exporter stays for the whole process.
fn start_receiver() -> (String, Spans) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("receiver binds");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let endpoint = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    let spans = Spans::default();
    let store = spans.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("receiver runtime");
        runtime.block_on(async move {
            let app = Router::new().route(
                "/v1/traces",
                post(move |body: Bytes| {
                    let store = store.clone();
                    async move {
                        let request: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                        store.lock().unwrap().extend(spans_of(&request));
                        axum::Json(json!({}))
                    }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (endpoint, spans)
}

/// Every span in an OTLP export request.
fn spans_of(request: &Value) -> Vec<Value> {
    let list = |value: &Value, key: &str| value[key].as_array().cloned().unwrap_or_default();
    list(request, "resourceSpans")
        .iter()
        .flat_map(|resource| list(resource, "scopeSpans"))
        .flat_map(|scope| list(&scope, "spans"))
        .collect()
}

/// A span attribute's string value.
fn attribute<'a>(span: &'a Value, key: &str) -> Option<&'a str> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|attribute| attribute["key"] == key)?["value"]["stringValue"]
        .as_str()
}

/// The spans of `trace_id` once every name in `expected` is among them
/// (`project_record` twice: one per record projected).
async fn await_trace(trace_id: &str, expected: &[&str]) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        // The exporter batches every few seconds; flushing makes it now.
        tokio::task::spawn_blocking(|| telemetry().guard.flush())
            .await
            .unwrap();
        let spans: Vec<Value> = telemetry()
            .spans
            .lock()
            .unwrap()
            .iter()
            .filter(|span| span["traceId"] == trace_id)
            .cloned()
            .collect();
        let mut missing: Vec<&str> = expected.to_vec();
        for span in &spans {
            if let Some(at) = missing.iter().position(|name| span["name"] == *name) {
                missing.remove(at);
            }
        }
        if missing.is_empty() {
            return spans;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "trace {trace_id} lacks {missing:?} after {PATIENCE:?}; got {:?}",
            spans.iter().map(|s| &s["name"]).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_event_is_one_trace_from_the_source_through_every_service() {
    let pipeline = spawn_pipeline(Options::default()).await;
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let source_span = "00f067aa0ba902b7";
    let traceparent = format!("00-{trace_id}-{source_span}-01");
    let correlation = format!("order-{}", &trace_id[..8]);

    let response = pipeline
        .http
        .post(format!("{}/events", pipeline.command_url))
        .bearer_auth(crate::support::SOURCE_KEY)
        .header("traceparent", &traceparent)
        .header("x-correlation-id", &correlation)
        .json(&event("traced"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(
        response.headers()[HEADER_CORRELATION_ID].to_str().unwrap(),
        correlation
    );
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["trace_id"], trace_id.as_str());

    // events.raw: same trace, a new parent span (ours), the correlation id.
    let raw = pipeline.read_topic(&pipeline.kafka.topics().raw, 1).await;
    let headers = raw[0].headers().expect("raw record has headers");
    let raw_parent = orch_kafka::header_str(headers, HEADER_TRACEPARENT).unwrap();
    assert!(
        raw_parent.starts_with(&format!("00-{trace_id}-")),
        "{raw_parent}"
    );
    assert!(!raw_parent.contains(source_span), "{raw_parent}");
    assert_eq!(
        orch_kafka::header_str(headers, HEADER_CORRELATION_ID),
        Some(correlation.as_str())
    );

    // The GET view, and Postgres under it.
    let view = pipeline.await_status("traced", "delivered").await;
    assert_eq!(view["trace_id"], trace_id.as_str());
    assert_eq!(view["correlation_id"], correlation.as_str());
    assert_eq!(
        view["trace_url"],
        crate::support::TRACE_URL_TEMPLATE.replace("{trace_id}", &trace_id)
    );
    let db = sqlx::PgPool::connect(&pipeline.database_url).await.unwrap();
    let (stored_trace, stored_correlation): (String, String) =
        sqlx::query_as("SELECT trace_id, correlation_id FROM events WHERE id = 'traced'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        (stored_trace.as_str(), stored_correlation.as_str()),
        (trace_id.as_str(), correlation.as_str())
    );

    // The request the target received.
    let received: Value = pipeline
        .http
        .get(format!("{}/received/traced", pipeline.target_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let target_parent = received["traceparent"].as_str().unwrap();
    assert!(
        target_parent.starts_with(&format!("00-{trace_id}-")),
        "{received}"
    );
    assert_eq!(received["correlation_id"], correlation.as_str());

    // events.status: the record names the trace, its headers continue it.
    let status = pipeline
        .read_topic(&pipeline.kafka.topics().status, 1)
        .await;
    let record: StatusRecord = serde_json::from_slice(status[0].payload().unwrap()).unwrap();
    assert_eq!(record.trace_id, trace_id);
    let status_headers = status[0].headers().unwrap();
    assert!(
        orch_kafka::header_str(status_headers, HEADER_TRACEPARENT)
            .unwrap()
            .starts_with(&format!("00-{trace_id}-"))
    );
    assert_eq!(
        orch_kafka::header_str(status_headers, HEADER_CORRELATION_ID),
        Some(correlation.as_str())
    );

    // The exported spans: one trace, each hop the child of the one before.
    let spans = await_trace(
        &trace_id,
        &[
            "POST /events",
            "accept_event",
            "publish_raw_event",
            "deliver_event",
            "graphql_create_item",
            "POST /graphql",
            "publish_status",
            "project_record",
            "project_record",
        ],
    )
    .await;
    let by_id: HashMap<&str, &Value> = spans
        .iter()
        .map(|span| (span["spanId"].as_str().unwrap(), span))
        .collect();
    let one = |name: &str| {
        let found: Vec<&Value> = spans.iter().filter(|s| s["name"] == name).collect();
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        found[0]
    };
    let parent_name = |span: &Value| -> String {
        let parent = span["parentSpanId"].as_str().unwrap_or_default();
        by_id.get(parent).map_or_else(
            || format!("outside:{parent}"),
            |p| p["name"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        parent_name(one("POST /events")),
        format!("outside:{source_span}")
    );
    assert_eq!(parent_name(one("accept_event")), "POST /events");
    assert_eq!(parent_name(one("publish_raw_event")), "accept_event");
    assert_eq!(parent_name(one("deliver_event")), "publish_raw_event");
    assert_eq!(parent_name(one("graphql_create_item")), "deliver_event");
    assert_eq!(parent_name(one("POST /graphql")), "graphql_create_item");
    assert_eq!(parent_name(one("publish_status")), "deliver_event");
    let mut projected: Vec<String> = spans
        .iter()
        .filter(|s| s["name"] == "project_record")
        .map(parent_name)
        .collect();
    projected.sort();
    assert_eq!(projected, ["publish_raw_event", "publish_status"]);

    // Three services' code, one trace.
    let module = |name: &str| {
        attribute(one(name), "code.module.name")
            .unwrap_or_default()
            .to_owned()
    };
    assert!(module("accept_event").starts_with("orch_command"));
    assert!(module("deliver_event").starts_with("orch_dispatcher"));
    let projector = spans
        .iter()
        .find(|s| s["name"] == "project_record")
        .unwrap();
    assert!(
        attribute(projector, "code.module.name")
            .unwrap()
            .starts_with("orch_query")
    );
    assert_eq!(
        attribute(one("deliver_event"), "correlation_id"),
        Some(correlation.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_correlation_id_is_refused_and_a_bad_traceparent_starts_a_trace() {
    let pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        without_query: true,
        ..Options::default()
    })
    .await;
    let post = |headers: Vec<(&'static str, String)>| {
        let mut request = pipeline
            .http
            .post(format!("{}/events", pipeline.command_url))
            .bearer_auth(crate::support::SOURCE_KEY)
            .json(&event("headers"));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let refused = post(vec![("x-correlation-id", "x".repeat(129))])
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("X-Correlation-Id")
    );

    let fresh = post(vec![("traceparent", "00-zz-not-a-trace-01".into())])
        .await
        .unwrap();
    assert_eq!(fresh.status(), 202);
    let accepted: Value = fresh.json().await.unwrap();
    let trace_id = accepted["trace_id"].as_str().unwrap();
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, "0".repeat(32));
    assert!(trace_id.bytes().all(|b| b.is_ascii_hexdigit()));
}
