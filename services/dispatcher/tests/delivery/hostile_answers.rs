use std::time::Duration;

use orch_contracts::{Status, Topics};
use orch_sandbox_target::Faults;
use serde_json::{Value, json};

use crate::support::{
    Feeder, Replica, Target, await_assignments, await_condition, await_outcomes, panics_in,
    spawn_target,
};

/// Events per round; the first meets the hostile answer.
const EVENTS: usize = 600;
/// The group's rate: a round takes about 3 s when nothing goes wrong.
const RATE: u32 = 200;
/// The cap on any wait the target asks for, in this test.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(2);

/// How long a round of `EVENTS` took, from its first record produced to its
/// last outcome, by the outcomes' own timestamps.
async fn round(
    feeder: &Feeder,
    topics: &Topics,
    target: &Target,
    name: &str,
    hostile: Option<&Value>,
) -> Duration {
    let ids: Vec<String> = (0..EVENTS).map(|i| format!("{name}-{i}")).collect();
    let given_before = target.stats().await.injected_hostile;
    if let Some(answer) = hostile {
        target
            .admin("hostile", json!({ "answer": answer, "count": 1 }))
            .await;
    }
    let started = time::OffsetDateTime::now_utc();
    feeder.send(&ids).await;
    let outcomes = await_outcomes(topics, &ids, Duration::from_secs(120)).await;
    let mut last = started;
    for id in &ids {
        let outcome = &outcomes[id];
        assert_eq!(outcome.status, Status::Delivered, "{name}: {outcome:?}");
        last = last.max(outcome.at);
    }
    if hostile.is_some() {
        // The fault fired: the round is a test of it, not of a quiet target.
        assert_eq!(
            target.stats().await.injected_hostile,
            given_before + 1,
            "{name}: the hostile answer was given"
        );
    }
    Duration::try_from(last - started).unwrap_or_default()
}

/// Delivers small batches until the replica holding the partition is back at
/// its full share (AIMD halves the rate after a 429 and recovers only as
/// deliveries succeed), so the next round starts where the baseline did.
async fn recover(feeder: &Feeder, replicas: &[&Replica], name: &str) {
    let mut batch = 0;
    await_condition(
        "the rate recovers after a 429",
        Duration::from_secs(60),
        || {
            batch += 1;
            let ids: Vec<String> = (0..50)
                .map(|i| format!("{name}-recovery-{batch}-{i}"))
                .collect();
            async move {
                feeder.send(&ids).await;
                tokio::time::sleep(Duration::from_millis(250)).await;
                for replica in replicas {
                    let status = replica.status().await;
                    let share = status["rate"]["share_per_second"].as_f64().unwrap_or(0.0);
                    if share > 0.0 {
                        return status["rate"]["current_per_second"].as_f64() == Some(share);
                    }
                }
                false
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_to_the_head_of_a_partition_neither_panic_nor_stall_it() {
    let _shared = crate::support::not_measuring().await;
    let prefix = orch_testkit::unique_prefix();
    let topics = Topics::with_prefix(&prefix);
    let target = spawn_target(0, Faults::default()).await;
    let scratch =
        std::env::temp_dir().join(format!("orch-hostile-{}", prefix.trim_end_matches('.')));
    std::fs::create_dir_all(&scratch).unwrap();
    let (log_a, log_b) = (scratch.join("a.log"), scratch.join("b.log"));
    let settings = [
        ("DISPATCHER_REQUEST_TIMEOUT_MS", "1000"),
        ("DISPATCHER_MAX_RETRY_AFTER_MS", "2000"),
        ("DISPATCHER_MAX_RESPONSE_BYTES", "65536"),
    ];
    // One partition: the hostile answer meets the head of everything.
    let a = Replica::start_with(&prefix, &target, RATE, 1, &log_a, &settings).await;
    await_assignments(&log_a, 1).await;
    let b = Replica::start_with(&prefix, &target, RATE, 1, &log_b, &settings).await;
    await_assignments(&log_b, 1).await;
    let feeder = Feeder::new(&topics);

    let baseline = round(&feeder, &topics, &target, "baseline", None).await;
    eprintln!("hostile answers: baseline round {baseline:?}");
    let bodies = [
        (
            "slow-drip",
            json!({ "kind": "slow_drip", "bytes": 100_000, "every_ms": 100 }),
        ),
        (
            "oversized",
            json!({ "kind": "oversized", "bytes": 8_388_608 }),
        ),
        ("not-json", json!({ "kind": "not_json" })),
        ("no-data-no-errors", json!({ "kind": "no_data_no_errors" })),
        ("reset-mid-body", json!({ "kind": "reset_mid_body" })),
    ];
    for (name, answer) in &bodies {
        let took = round(&feeder, &topics, &target, name, Some(answer)).await;
        eprintln!("hostile answers: {name} round {took:?}");
        assert!(
            took <= baseline * 2,
            "{name}: {took:?} against a baseline of {baseline:?}"
        );
    }
    // Waits the target asks for are honoured up to the cap, and no more.
    let waits = [
        (
            "retry-after-u64-max",
            json!({ "kind": "retry_after", "value": "18446744073709551615" }),
        ),
        (
            "retry-after-past-u64",
            json!({ "kind": "retry_after", "value": "99999999999999999999999" }),
        ),
        (
            "retry-after-year-9999",
            json!({ "kind": "retry_after", "value": "Fri, 31 Dec 9999 23:59:59 GMT" }),
        ),
        (
            "retry-after-negative",
            json!({ "kind": "retry_after", "value": "-5" }),
        ),
        (
            "retry-after-text",
            json!({ "kind": "retry_after", "value": "soon" }),
        ),
        (
            "graphql-retry-after-1e20",
            json!({ "kind": "graphql_retry_after", "value": "1e20" }),
        ),
        (
            "graphql-retry-after-negative",
            json!({ "kind": "graphql_retry_after", "value": "-3" }),
        ),
    ];
    for (name, answer) in &waits {
        let took = round(&feeder, &topics, &target, name, Some(answer)).await;
        eprintln!("hostile answers: {name} round {took:?}");
        assert!(
            took <= baseline * 2 + MAX_RETRY_AFTER,
            "{name}: {took:?} against a baseline of {baseline:?} and a cap of {MAX_RETRY_AFTER:?}"
        );
        recover(&feeder, &[&a, &b], name).await;
    }
    let panics = panics_in(&[&log_a, &log_b]);
    assert!(panics.is_empty(), "{panics:#?}");
}
