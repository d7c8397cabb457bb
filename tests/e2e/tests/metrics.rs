use crate::support::{Options, event, spawn_pipeline};

/// Series a short run must leave on `/metrics` (all services in this test
/// process share one registry, so one scrape sees them all).
const EXPECTED: &[&str] = &[
    "orch_http_requests_total{",
    "orch_http_request_duration_seconds_bucket{",
    "orch_produce_duration_seconds_bucket",
    "orch_events_accepted_total{",
    "orch_spool_depth_records",
    "orch_deliveries_total{",
    "orch_delivery_attempt_duration_seconds_bucket",
    "orch_dispatcher_rate_current_per_second",
    "orch_dispatcher_rate_share_per_second",
    "orch_projection_batch_records",
    "orch_projection_delay_seconds_bucket",
    "orch_projection_lag_seconds",
    "orch_consumer_lag_records{consumer=\"dispatcher\"",
    "orch_consumer_lag_records{consumer=\"projector\"",
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

/// Label names a series may carry; each has a bounded set of values.
const BOUNDED_LABELS: &[&str] = &[
    "le",
    "quantile",
    "durable_in",
    "reason",
    "kind",
    "outcome",
    "method",
    "route",
    "status",
    "consumer",
    "topic",
    "partition",
    "step",
    "fault",
    "control",
    "service",
    "version",
    "commit",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_exports_only_orch_metrics_with_bounded_labels() {
    let pipeline = spawn_pipeline(Options::default()).await;
    let id = "a-very-unusual-event-id-that-must-not-become-a-label";
    assert_eq!(pipeline.post_event(&event(id)).await.status(), 202);
    pipeline.await_status(id, "delivered").await;
    // A request to an unknown path, which a careless route label would copy.
    let _ = pipeline
        .http
        .get(format!("{}/no/such/path/{id}", pipeline.query_url))
        .send()
        .await;

    for (service, base) in [
        ("command", &pipeline.command_url),
        ("dispatcher", &pipeline.dispatcher_url),
        ("query", &pipeline.query_url),
    ] {
        let scrape = pipeline
            .http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("the service answers")
            .text()
            .await
            .expect("text");
        assert!(
            scrape.contains(&format!("orch_build_info{{service=\"{service}\"")),
            "{service} says what it is:\n{scrape}"
        );
        for typed in scrape.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
            if let Some(counter) = typed.strip_suffix(" counter") {
                assert!(
                    counter.ends_with("_total"),
                    "{service}: counter {counter} without _total"
                );
            }
        }
        let mut series = 0;
        for line in scrape
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            series += 1;
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            assert!(
                name.starts_with("orch_"),
                "{service}: {name} has no orch_ prefix"
            );
            assert!(
                !name.ends_with("_per_sec"),
                "{service}: {name} is not in base units"
            );
            assert!(
                !line.contains(id),
                "{service}: an event id in a label: {line}"
            );
            assert!(
                !line.contains("/no/such/path"),
                "{service}: a raw path in a label: {line}"
            );
            if let Some(labels) = line
                .split_once('{')
                .and_then(|(_, rest)| rest.split_once('}'))
            {
                for pair in labels.0.split("\",").filter(|p| !p.is_empty()) {
                    let key = pair.split('=').next().unwrap_or_default();
                    assert!(
                        BOUNDED_LABELS.contains(&key),
                        "{service}: label {key} of {name} is not a known bounded one"
                    );
                }
            }
        }
        assert!(series > 10, "{service} exports its series: {series}");
    }
}
