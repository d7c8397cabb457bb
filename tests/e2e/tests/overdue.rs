//! Overdue events: a dispatcher group stopped without a pause leaves events
//! accepted; after the (shortened) limit the gauge rises, the sweeper
//! publishes each once at its next generation, and an event that overruns
//! again ends `overdue_failed`, across two query replicas sweeping the same
//! read model. A paused group is not overdue.

use std::collections::BTreeMap;
use std::time::Duration;

use orch_contracts::DeliveryControl;
use orchctl::delivery::{Reasoned, set};
use rdkafka::Message as _;
use serde_json::Value;

use crate::support::{Options, Pipeline, event, spawn_pipeline};

/// The overdue limit in this test, in seconds.
const LIMIT_SECS: u32 = 3;
const EVENTS: usize = 4;

fn overdue_config() -> orch_query::OverdueConfig {
    orch_query::OverdueConfig {
        overdue_after_secs: LIMIT_SECS,
        sweep_interval_ms: 200,
        sweep_batch: 1_000,
    }
}

/// The value of an unlabelled gauge in a scrape.
fn gauge(scrape: &str, name: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix(' ')?;
        rest.trim().parse().ok()
    })
}

/// Polls the event until `done` holds for its view.
async fn await_event(
    pipeline: &Pipeline,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (code, body) = pipeline.get_event(id).await;
        if code == 200 && done(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id}: {what} never happened; last answer {code}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Ids listed by `GET /events?overdue=true` on `base`.
async fn listed_overdue(pipeline: &Pipeline, base: &str) -> Vec<String> {
    let page: Value = pipeline
        .http
        .get(format!("{base}/events?overdue=true&sort=oldest&limit=1000"))
        .bearer_auth(crate::support::READER_KEY)
        .send()
        .await
        .expect("query service answers")
        .json()
        .await
        .expect("a page");
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Records on the raw topic per event id, once `expected` are there.
async fn raw_records(pipeline: &Pipeline, expected: usize) -> BTreeMap<String, Vec<u32>> {
    let mut by_id: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for message in pipeline
        .read_topic(&pipeline.kafka.topics().raw, expected)
        .await
    {
        let record: orch_contracts::RawEventRecord =
            serde_json::from_slice(message.payload().unwrap_or_default()).expect("a raw record");
        by_id
            .entry(record.id.into_string())
            .or_default()
            .push(record.generation);
    }
    by_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_events_are_swept_once_by_either_replica_then_given_up_on() {
    let tag = orch_testkit::unique_prefix().replace('.', "");
    let mut pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        overdue: Some(overdue_config()),
        ..Options::default()
    })
    .await;
    let second = pipeline.start_query_replica().await;

    // 1. No dispatcher, and no pause: the events wait, and become overdue.
    let late: Vec<String> = (0..EVENTS).map(|n| format!("late-{tag}-{n}")).collect();
    for id in &late {
        assert_eq!(pipeline.post_event(&event(id)).await.status(), 202);
    }
    for id in &late {
        pipeline.await_status(id, "accepted").await;
    }
    assert!(
        listed_overdue(&pipeline, &pipeline.query_url)
            .await
            .is_empty(),
        "nothing is overdue before the limit"
    );
    pipeline
        .await_metrics(|scrape| match gauge(scrape, "orch_events_overdue") {
            Some(n) if n >= EVENTS as f64 => vec![],
            other => vec![format!("orch_events_overdue >= {EVENTS}, was {other:?}")],
        })
        .await;
    for id in &late {
        let view = await_event(&pipeline, id, "swept", |v| v["overdue"] == "swept").await;
        let swept = view["history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|step| step["status"] == "swept")
            .unwrap_or_else(|| panic!("a swept step in {view}"));
        assert_eq!(swept["generation"], 1, "{view}");
    }
    // Both replicas list them, whichever swept.
    for base in [&pipeline.query_url, &second] {
        let listed = listed_overdue(&pipeline, base).await;
        for id in &late {
            assert!(listed.contains(id), "{id} listed by {base}: {listed:?}");
        }
    }

    // 2. The group comes back: each event is delivered at its swept generation.
    pipeline.start_dispatcher().await;
    for id in &late {
        let view = await_event(&pipeline, id, "delivered at generation 1", |v| {
            v["status"] == "delivered" && v["generation"] == 1
        })
        .await;
        assert_eq!(view["overdue"], "swept", "{view}");
    }
    pipeline.stop_dispatcher().await;

    // 3. Overdue again after the sweep: given up on, listed, never swept twice.
    let stuck: Vec<String> = (0..EVENTS).map(|n| format!("stuck-{tag}-{n}")).collect();
    for id in &stuck {
        assert_eq!(pipeline.post_event(&event(id)).await.status(), 202);
    }
    for id in &stuck {
        await_event(&pipeline, id, "overdue_failed", |v| {
            v["overdue"] == "overdue_failed"
        })
        .await;
    }
    let scrape = pipeline
        .await_metrics(|scrape| match gauge(scrape, "orch_events_overdue_failed") {
            Some(n) if n >= EVENTS as f64 => vec![],
            other => vec![format!(
                "orch_events_overdue_failed >= {EVENTS}, was {other:?}"
            )],
        })
        .await;
    assert!(
        gauge(&scrape, "orch_events_overdue_oldest_age_seconds").unwrap_or(0.0)
            >= f64::from(LIMIT_SECS),
        "the oldest overdue event's age"
    );
    let listed = listed_overdue(&pipeline, &second).await;
    for id in &stuck {
        assert!(listed.contains(id), "{id} stays listed: {listed:?}");
    }
    // Two sweeping replicas, about 15 sweeps each since the first ones were
    // swept: still one republish per event, ever.
    let raw = raw_records(&pipeline, 4 * EVENTS).await;
    for id in late.iter().chain(&stuck) {
        assert_eq!(raw.get(id), Some(&vec![0, 1]), "{id}: {raw:?}");
    }

    // 4. Paused is not overdue: nothing is counted, listed or swept.
    pipeline.start_dispatcher().await;
    for id in &stuck {
        pipeline.await_status(id, "delivered").await;
    }
    let reasoned = Reasoned {
        reason: "target maintenance".into(),
        by: Some("overdue-test".into()),
        dry_run: false,
        kafka: pipeline.kafka.clone(),
    };
    set(&reasoned, DeliveryControl::Pause { paused: true })
        .await
        .expect("paused");
    // The dispatcher applies it within a poll; events sent before would go.
    orch_testkit::await_condition("the dispatcher paused", Duration::from_secs(30), || async {
        let status: Value = pipeline
            .http
            .get(format!("{}/status", pipeline.dispatcher_url))
            .send()
            .await
            .expect("the dispatcher answers")
            .json()
            .await
            .expect("status JSON");
        status["paused"] == true
    })
    .await;
    let held: Vec<String> = (0..EVENTS).map(|n| format!("held-{tag}-{n}")).collect();
    for id in &held {
        assert_eq!(pipeline.post_event(&event(id)).await.status(), 202);
    }
    for id in &held {
        pipeline.await_status(id, "accepted").await;
    }
    // Past two limits while paused; a sweeper that ignored the pause would
    // have swept every one by now.
    let watched_since = tokio::time::Instant::now();
    while watched_since.elapsed() < Duration::from_secs(2 * u64::from(LIMIT_SECS)) {
        for base in [&pipeline.query_url, &second] {
            let listed = listed_overdue(&pipeline, base).await;
            assert!(
                held.iter().all(|id| !listed.contains(id)),
                "paused, listed: {listed:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for id in &held {
        let (_, view) = pipeline.get_event(id).await;
        assert_eq!(view["status"], "accepted", "still held: {view}");
        assert!(
            view.get("overdue").is_none(),
            "not swept while paused: {view}"
        );
    }
    set(&reasoned, DeliveryControl::Pause { paused: false })
        .await
        .expect("resumed");
    for id in &held {
        let view = pipeline.await_status(id, "delivered").await;
        assert_eq!(view["generation"], 0, "delivered without a sweep: {view}");
    }
    pipeline.stop_dispatcher().await;
}
