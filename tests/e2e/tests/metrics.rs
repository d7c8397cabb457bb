use crate::support::{Options, event, spawn_pipeline};

/// Series a short run must leave on `/metrics` (all services in this test
/// process share one registry, so one scrape sees them all).
const EXPECTED: &[&str] = &[
    "http_requests_total{",
    "http_request_duration_seconds_bucket{",
    "produce_duration_seconds_bucket",
    "events_accepted_total{",
    "spool_depth_records",
    "deliveries_total{",
    "delivery_attempt_duration_seconds_bucket",
    "dispatcher_rate_current_per_sec",
    "dispatcher_rate_share_per_sec",
    "projection_batch_size",
    "projection_lag_seconds",
    "kafka_consumer_lag{consumer=\"dispatcher\"",
    "kafka_consumer_lag{consumer=\"projector\"",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_exports_every_pipeline_metric_with_bounded_labels() {
    let pipeline = spawn_pipeline(Options::default()).await;
    assert_eq!(pipeline.post_event(&event("measured")).await.status(), 202);
    pipeline.await_status("measured", "delivered").await;

    let scrape = pipeline
        .await_metrics(|scrape| {
            EXPECTED
                .iter()
                .filter(|name| !scrape.contains(**name))
                .collect()
        })
        .await;
    // No label carries an event id: labels stay bounded whatever is sent.
    assert!(
        !scrape.contains("measured"),
        "an event id leaked into a label"
    );
}
