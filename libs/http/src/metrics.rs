use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Buckets for latency histograms, in seconds: dense below the 500 ms
/// promise, with its 450 ms objective (the ingest SLO alerts) a bucket edge.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.45, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Buckets for accepted → delivered, in seconds: from the pipeline's own
/// milliseconds to retries that take an hour.
const DELIVERY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// The process-wide Prometheus registry, installed on first use so that several
/// services in one test process share it instead of failing to install twice.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full("orch_delivery_latency_seconds".into()),
                    DELIVERY_BUCKETS,
                )
            })
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; then ours stays
        // unused and /metrics shows nothing, which the metrics tests would catch.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("A metrics recorder was already installed; /metrics will be empty.");
        }
        handle
    })
}

/// Sets `orch_build_info{service, version, commit} 1` for this process's
/// `service`: what is running where, and the series whose absence says a
/// service stopped exporting.
pub fn register_build_info(service: &'static str) {
    metrics_handle();
    metrics::gauge!(
        "orch_build_info",
        "service" => service,
        "version" => orch_telemetry::VERSION,
        "commit" => orch_telemetry::COMMIT
    )
    .set(1.0);
}

/// `GET /metrics` in the Prometheus text format. Building it installs the
/// registry, so metrics recorded before the first scrape are not lost.
pub fn metrics_route() -> Router {
    metrics_handle();
    Router::new().route("/metrics", get(render))
}

async fn render() -> Response {
    let handle = metrics_handle();
    handle.run_upkeep();
    let mut text = handle.render();
    orch_telemetry::render_live_gauges(&mut text);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Middleware counting requests and their latency by route template and status.
/// The route is the matched template (`/events/{id}`), never the raw path, so
/// labels stay bounded whatever clients send.
pub async fn track_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = [
        ("method", metrics::SharedString::const_str(method)),
        ("route", route.into()),
        ("status", status_label(response.status())),
    ];
    metrics::counter!("orch_http_requests_total", &labels).increment(1);
    metrics::histogram!("orch_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Methods as static labels (no allocation per request); others as `other`,
/// which also keeps the label set bounded whatever clients send.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

fn status_label(status: axum::http::StatusCode) -> metrics::SharedString {
    match status.as_u16() {
        200 => metrics::SharedString::const_str("200"),
        202 => metrics::SharedString::const_str("202"),
        code => code.to_string().into(),
    }
}
