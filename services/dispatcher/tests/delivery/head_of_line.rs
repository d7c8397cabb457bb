use std::time::Duration;

use orch_contracts::{Status, Topics};
use orch_sandbox_target::Faults;

use crate::support::{Replica, await_assignments, await_outcomes, produce, spawn_target};

/// Every delivery takes this long at the target.
const DELIVERY_TIME: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_event_at_the_head_of_a_partition_does_not_hold_up_the_events_behind_it() {
    let _shared = crate::support::not_measuring().await;
    let prefix = orch_testkit::unique_prefix();
    let topics = Topics::with_prefix(&prefix);
    let target = spawn_target(
        0,
        Faults {
            latency_min_ms: DELIVERY_TIME.as_millis() as u64,
            reject_id_prefix: Some("poison-".into()),
            ..Faults::default()
        },
    )
    .await;
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("dispatcher.log");
    // One partition, so the poison event is at the head of everything.
    let _replica = Replica::start(&prefix, &target, 1_000, 1, &log).await;
    await_assignments(&log, 1).await;

    let poison = vec!["poison-head".to_owned()];
    produce(&topics, &poison).await;
    let behind: Vec<String> = (0..20).map(|i| format!("e-{i}")).collect();
    produce(&topics, &behind).await;

    let all: Vec<String> = poison.iter().chain(&behind).cloned().collect();
    let outcomes = await_outcomes(&topics, &all, orch_testkit::PATIENCE).await;
    assert_eq!(outcomes["poison-head"].status, Status::DeadLettered);
    let poison_done = outcomes["poison-head"].at;
    let last_delivered = behind
        .iter()
        .map(|id| {
            assert_eq!(outcomes[id].status, Status::Delivered, "{id}");
            outcomes[id].at
        })
        .max()
        .unwrap();
    // Sequential delivery would finish the last one 20 delivery times later.
    let lag = last_delivered - poison_done;
    assert!(
        lag < time::Duration::try_from(DELIVERY_TIME).unwrap(),
        "the events behind the poison finished {lag} after it"
    );
}
