use std::time::Duration;

use orch_contracts::{ErrorKind, Status, Topics};
use orch_sandbox_target::Faults;

use crate::support::{Feeder, Replica, await_assignments, await_outcomes, spawn_target};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_task_that_panics_is_dead_lettered_as_internal_and_its_partition_keeps_flowing()
{
    let _shared = crate::support::not_measuring().await;
    let prefix = orch_testkit::unique_prefix();
    let topics = Topics::with_prefix(&prefix);
    let target = spawn_target(0, Faults::default()).await;
    let scratch = tempfile::tempdir().unwrap();
    let log = scratch.path().join("dispatcher.log");
    // One partition and a small window: a jammed offset would stop it all.
    let _replica = Replica::start_with(
        &prefix,
        &target,
        1_000,
        1,
        &log,
        &[
            ("DISPATCHER_TEST_PANIC_ID_PREFIX", "panic-"),
            ("DISPATCHER_MAX_IN_FLIGHT_PER_PARTITION", "16"),
        ],
    )
    .await;
    await_assignments(&log, 1).await;

    let ids: Vec<String> = (0..300)
        .map(|i| {
            if i % 100 == 0 {
                format!("panic-{i}")
            } else {
                format!("e-{i}")
            }
        })
        .collect();
    Feeder::new(&topics).send(&ids).await;
    let outcomes = await_outcomes(&topics, &ids, Duration::from_secs(60)).await;
    for id in &ids {
        let outcome = &outcomes[id];
        if id.starts_with("panic-") {
            assert_eq!(outcome.status, Status::DeadLettered, "{outcome:?}");
            assert_eq!(
                outcome.error_kind,
                Some(ErrorKind::InternalError),
                "{outcome:?}"
            );
            assert!(
                outcome
                    .error_message
                    .as_deref()
                    .unwrap_or_default()
                    .contains("panicked 3 times"),
                "{outcome:?}"
            );
        } else {
            assert_eq!(outcome.status, Status::Delivered, "{outcome:?}");
        }
    }
    assert_eq!(target.stats().await.unique_ids, 297);
    let text = std::fs::read_to_string(&log).unwrap();
    // The panics really happened, each logged once at ERROR, as structured lines.
    let logged = text
        .lines()
        .filter(|line| line.contains("Delivery task panicked"))
        .count();
    assert_eq!(logged, 3 * 3, "three tries of three events:\n{text}");
    assert!(
        !text.contains("panicked at"),
        "the default panic report is silenced for supervised tasks:\n{text}"
    );
}
