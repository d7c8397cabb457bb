use orchctl::offsets;
use orchctl::replay::{ReplayArgs, replay};
use time::OffsetDateTime;

use crate::support::{Options, PATIENCE, event, spawn_pipeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_from_a_time_redelivers_exactly_the_events_accepted_after_it() {
    let mut pipeline = spawn_pipeline(Options::default()).await;
    for i in 0..6 {
        assert_eq!(
            pipeline
                .post_event(&event(&format!("before-{i}")))
                .await
                .status(),
            202
        );
    }
    for i in 0..6 {
        pipeline
            .await_status(&format!("before-{i}"), "delivered")
            .await;
    }
    let t = OffsetDateTime::now_utc();
    let after = 7;
    for i in 0..after {
        assert_eq!(
            pipeline
                .post_event(&event(&format!("after-{i}")))
                .await
                .status(),
            202
        );
    }
    for i in 0..after {
        pipeline
            .await_status(&format!("after-{i}"), "delivered")
            .await;
    }
    let args = ReplayArgs {
        group: pipeline.dispatcher_config.group_id.clone(),
        topic: None,
        to_time: Some(t),
        to_offset: None,
        to_beginning: false,
        dry_run: false,
        kafka: pipeline.kafka.clone(),
        output: Default::default(),
    };

    // While the dispatcher runs, replay refuses and changes nothing.
    let refusal = {
        let args = args.clone();
        tokio::task::spawn_blocking(move || replay(&args))
            .await
            .unwrap()
    };
    let message = format!(
        "{:#}",
        refusal.expect_err("refused while the group is live")
    );
    assert!(message.contains("active member"), "{message}");

    pipeline.stop_dispatcher().await;
    let dry = ReplayArgs {
        dry_run: true,
        ..args.clone()
    };
    let plan = tokio::task::spawn_blocking(move || replay(&dry))
        .await
        .unwrap()
        .unwrap();
    assert!(!plan.applied);
    assert_eq!(
        plan.affected(),
        after,
        "the dry run counts the events after T"
    );
    let plan = tokio::task::spawn_blocking({
        let args = args.clone();
        move || replay(&args)
    })
    .await
    .unwrap()
    .unwrap();
    assert!(plan.applied);
    assert_eq!(plan.affected(), after);

    pipeline.start_dispatcher().await;
    // Done when the group has caught up with the log again.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let args = args.clone();
        let lag: i64 = tokio::task::spawn_blocking(move || {
            let handle = offsets::group_handle(&args.kafka, &args.group).unwrap();
            offsets::partition_offsets(&handle, &args.kafka.topics().raw)
                .unwrap()
                .iter()
                .map(offsets::PartitionOffsets::lag)
                .sum()
        })
        .await
        .unwrap();
        let stats = pipeline.target_stats().await;
        if lag == 0 && stats.duplicates >= after as u64 {
            assert_eq!(
                stats.duplicates, after as u64,
                "exactly the events after T again: {stats:?}"
            );
            assert_eq!(stats.unique_ids, 6 + after as u64);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "replay not finished: lag {lag}, {stats:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
