use orch_contracts::{DeadLetterRecord, EventId};
use orchctl::dead_letters::{ArchiveArgs, LetterFilter, Source};
use orchctl::redrive::{RedriveArgs, redrive};
use rdkafka::Message;

use crate::support::{Options, event, spawn_pipeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_target_refuses_is_dead_lettered_with_its_reason() {
    // The target answers 400 to this event: a 4xx about it that no retry can fix.
    let pipeline = spawn_pipeline(Options {
        refused_ids: vec!["refused".into()],
        ..Options::default()
    })
    .await;
    assert_eq!(pipeline.post_event(&event("refused")).await.status(), 202);

    let view = pipeline.await_status("refused", "dead_lettered").await;
    assert_eq!(view["last_error_kind"], "client_error");
    assert_eq!(view["last_http_status"], 400);
    assert_eq!(view["attempts"], 1);

    let letters = pipeline.read_topic(&pipeline.kafka.topics().dlq, 1).await;
    let letter: DeadLetterRecord = serde_json::from_slice(letters[0].payload().unwrap()).unwrap();
    assert_eq!(letter.id, "refused");
    assert_eq!(letter.brand, "testBrand");
    assert_eq!(letter.attempts.len(), 1);
    assert_eq!(letter.event.name, "test event");
    assert_eq!(pipeline.target_stats().await.accepted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redriven_dead_letter_is_delivered_once_the_fault_is_fixed_and_keeps_both_rounds() {
    let pipeline = spawn_pipeline(Options {
        refused_ids: vec!["second-round".into(), "left-alone".into()],
        ..Options::default()
    })
    .await;
    assert_eq!(
        pipeline.post_event(&event("second-round")).await.status(),
        202
    );
    assert_eq!(
        pipeline.post_event(&event("left-alone")).await.status(),
        202
    );
    pipeline.await_status("second-round", "dead_lettered").await;
    pipeline.await_status("left-alone", "dead_lettered").await;

    // The fix: the target takes them now.
    pipeline.clear_target_faults().await;

    let args = RedriveArgs {
        filter: LetterFilter {
            ids: vec!["second-round".into()],
            ..LetterFilter::default()
        },
        dry_run: true,
        archive: ArchiveArgs::default(),
        kafka: pipeline.kafka.clone(),
        output: Default::default(),
    };
    let dry = redrive(&args).await.unwrap();
    assert_eq!(
        (dry.from_topic, dry.archive_read, dry.applied),
        (1, false, false)
    );
    assert_eq!(
        dry.redriven,
        [(EventId::parse("second-round").unwrap(), 1, Source::Topic)]
    );
    let done = redrive(&RedriveArgs {
        dry_run: false,
        ..args
    })
    .await
    .unwrap();
    assert!(done.applied);

    let view = pipeline.await_status("second-round", "delivered").await;
    assert_eq!(view["generation"], 1);
    let rounds: Vec<(i64, &str)> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            (
                step["generation"].as_i64().unwrap(),
                step["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(rounds.contains(&(0, "dead_lettered")), "{rounds:?}");
    assert!(rounds.contains(&(1, "delivered")), "{rounds:?}");
    let (_, untouched) = pipeline.get_event("left-alone").await;
    assert_eq!(
        untouched["status"], "dead_lettered",
        "only the chosen id was redriven"
    );
    assert_eq!(pipeline.target_stats().await.accepted, 1);
}
