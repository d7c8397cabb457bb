use std::time::Duration;

use orch_contracts::{ErrorKind, Status, Topics};
use orch_sandbox_target::Faults;

use crate::support::{Replica, await_assignments, await_outcomes, produce, spawn_target};

const EVENTS: usize = 10_000;
const LIMIT: u32 = 500;
const PARTITIONS: u32 = 6;
/// The dispatcher's default window per partition (DISPATCHER_MAX_IN_FLIGHT_PER_PARTITION).
const IN_FLIGHT_PER_PARTITION: u64 = 256;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_keep_the_limit_deliver_every_deliverable_and_dead_letter_poison_through_a_kill()
 {
    let _alone = crate::support::measuring_alone().await;
    let prefix = orch_testkit::unique_prefix();
    let topics = Topics::with_prefix(&prefix);
    let target = spawn_target(
        LIMIT,
        Faults {
            error_rate: 0.05,
            rate_limited_rate: 0.01,
            reject_id_prefix: Some("poison-".into()),
            ..Faults::default()
        },
    )
    .await;
    // Kept on failure: the replicas' logs are worth reading then.
    let scratch = std::env::temp_dir().join(format!("orch-rate-{}", prefix.trim_end_matches('.')));
    std::fs::create_dir_all(&scratch).unwrap();
    let (log_a, log_b) = (scratch.join("a.log"), scratch.join("b.log"));
    let mut a = Replica::start(&prefix, &target, LIMIT, PARTITIONS, &log_a).await;
    await_assignments(&log_a, 1).await;
    let _b = Replica::start(&prefix, &target, LIMIT, PARTITIONS, &log_b).await;
    await_assignments(&log_b, 1).await;

    // 0.5 % poison.
    let ids: Vec<String> = (0..EVENTS)
        .map(|i| {
            if i % 200 == 0 {
                format!("poison-{i}")
            } else {
                format!("e-{i}")
            }
        })
        .collect();
    produce(&topics, &ids).await;

    // Kill one replica mid-run, once a fifth of the events are in.
    let deadline = tokio::time::Instant::now() + orch_testkit::PATIENCE;
    while target.stats().await.accepted < (EVENTS / 5) as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivery never got going"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.kill();

    let outcomes = await_outcomes(&topics, &ids, Duration::from_secs(240)).await;
    let mut deliverable = 0;
    for id in &ids {
        let outcome = &outcomes[id];
        if id.starts_with("poison-") {
            assert_eq!(outcome.status, Status::DeadLettered, "{id}");
            assert_eq!(outcome.error_kind, Some(ErrorKind::ClientError), "{id}");
        } else {
            deliverable += 1;
            assert_eq!(outcome.status, Status::Delivered, "{id}: {outcome:?}");
        }
    }
    let stats = target.stats().await;
    eprintln!("rate test: target stats {stats:?}");
    assert_eq!(
        stats.unique_ids, deliverable,
        "every deliverable id reached the target"
    );
    assert_eq!(
        stats.rate_limited, 0,
        "the target's own limit never had to refuse anything"
    );
    assert!(
        stats.max_in_window <= u64::from(LIMIT),
        "{} requests in one {} ms window, over the limit of {LIMIT}",
        stats.max_in_window,
        stats.window_ms
    );
    // Only what the killed replica had not committed can be delivered twice:
    // its in-flight window (half the partitions) plus what it finished within
    // one commit interval (100 ms at its half of the limit).
    let killed_window =
        IN_FLIGHT_PER_PARTITION * u64::from(PARTITIONS / 2) + u64::from(LIMIT / 2) / 10;
    assert!(
        stats.duplicates <= killed_window,
        "{} duplicates",
        stats.duplicates
    );
}
