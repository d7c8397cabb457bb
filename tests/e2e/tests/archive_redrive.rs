use std::time::Duration;

use orch_archiver::{Application as Archiver, ArchiverConfig};
use orch_contracts::{DeadLetterRecord, ErrorKind, EventId, RawEventRecord};
use orch_objects::{ArchiveReader, Objects};
use orchctl::dead_letters::{self, ArchiveArgs, LetterFilter, Source};
use orchctl::redrive::{RedriveArgs, redrive};
use rdkafka::Message;
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::support::{Options, PATIENCE, event, spawn_pipeline};

/// A dead letter the DLQ topic no longer holds (its retention passed) is
/// still listed, from the archive, and redriven from there to `delivered`,
/// its history showing both rounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_gone_from_the_topic_is_listed_and_redriven_from_the_archive() {
    let pipeline = spawn_pipeline(Options {
        refused_ids: vec!["archived-only".into()],
        ..Options::default()
    })
    .await;
    let prefix = pipeline.kafka.kafka_topic_prefix.clone();
    let store = orch_testkit::objects::create_bucket(&prefix).await;
    let archiver = Archiver::build(ArchiverConfig::local(
        &pipeline.kafka.kafka_bootstrap_servers,
        &prefix,
        store.clone(),
    ))
    .await
    .expect("archiver starts");
    let stop_archiver = CancellationToken::new();
    let archiving = tokio::spawn(archiver.run(stop_archiver.clone()));

    assert_eq!(
        pipeline.post_event(&event("archived-only")).await.status(),
        202
    );
    pipeline
        .await_status("archived-only", "dead_lettered")
        .await;
    let dlq = pipeline.kafka.topics().dlq;
    let letter = pipeline.read_topic(&dlq, 1).await.remove(0);
    let (partition, offset) = (letter.partition(), letter.offset());

    // Archived: the manifest covers its offset.
    let reader = ArchiveReader::new(Objects::connect(&store).unwrap());
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !reader.manifest().await.is_ok_and(|entries| {
        entries
            .iter()
            .any(|e| e.partition == partition && (e.first_offset..=e.last_offset).contains(&offset))
    }) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the letter was never archived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Retention: a short one on the DLQ; each new record rolls the segment,
    // and the broker deletes the old one within a second or so.
    shorten_retention(&pipeline.kafka, &dlq).await;
    let watermarks: BaseConsumer = pipeline.kafka.client_config("test").create().unwrap();
    let filler: FutureProducer = pipeline.kafka.client_config("test").create().unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    for n in 0.. {
        let (low, _) = watermarks
            .fetch_watermarks(&dlq, partition, Duration::from_secs(10))
            .unwrap();
        if low > offset {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "retention never removed the letter"
        );
        let payload = serde_json::to_vec(&filler_letter(&format!("filler-{n}"))).unwrap();
        filler
            .send(
                FutureRecord::to(&dlq)
                    .partition(partition)
                    .key("filler")
                    .payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    let archive: ArchiveArgs = store.clone();
    let filter = LetterFilter {
        ids: vec!["archived-only".into()],
        ..LetterFilter::default()
    };
    let listed = dead_letters::read(&pipeline.kafka, &archive, &filter)
        .await
        .unwrap();
    assert_eq!(listed.found.len(), 1, "{listed:?}");
    assert_eq!(listed.found[0].source, Source::Archive);
    assert_eq!(listed.found[0].letter.reason, ErrorKind::ClientError);
    // A time window lists only its days' objects, and still finds it.
    let now = OffsetDateTime::now_utc();
    let window = |since: OffsetDateTime| LetterFilter {
        since: Some(since),
        until: Some(since + time::Duration::hours(2)),
        ..filter.clone()
    };
    let recent = dead_letters::read(
        &pipeline.kafka,
        &archive,
        &window(now - time::Duration::hours(1)),
    )
    .await
    .unwrap();
    assert_eq!(recent.count(Source::Archive), 1, "{recent:?}");
    let tomorrow = dead_letters::read(
        &pipeline.kafka,
        &archive,
        &window(now + time::Duration::days(1)),
    )
    .await
    .unwrap();
    assert!(tomorrow.found.is_empty(), "{tomorrow:?}");
    let topic_only = dead_letters::read(&pipeline.kafka, &ArchiveArgs::default(), &filter)
        .await
        .unwrap();
    assert!(topic_only.found.is_empty(), "the topic no longer holds it");

    pipeline.clear_target_faults().await;
    let args = RedriveArgs {
        filter,
        dry_run: true,
        archive,
        kafka: pipeline.kafka.clone(),
        output: Default::default(),
    };
    let dry = redrive(&args).await.unwrap();
    assert_eq!(
        (dry.from_topic, dry.from_archive, dry.applied),
        (0, 1, false)
    );
    assert_eq!(
        dry.redriven,
        [(EventId::parse("archived-only").unwrap(), 1, Source::Archive)]
    );
    assert!(
        redrive(&RedriveArgs {
            dry_run: false,
            ..args
        })
        .await
        .unwrap()
        .applied
    );

    let view = pipeline.await_status("archived-only", "delivered").await;
    let rounds: Vec<(i64, String)> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["generation"].as_i64().unwrap(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(rounds.contains(&(0, "dead_lettered".into())), "{rounds:?}");
    assert!(rounds.contains(&(1, "delivered".into())), "{rounds:?}");
    stop_archiver.cancel();
    archiving.await.unwrap().expect("archiver stops cleanly");
}

async fn shorten_retention(kafka: &orch_kafka::KafkaConfig, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = kafka.client_config("test").create().unwrap();
    let config = AlterConfig::new(ResourceSpecifier::Topic(topic))
        .set("retention.ms", "100")
        .set("segment.ms", "100");
    let results = admin
        .alter_configs(&[config], &AdminOptions::new())
        .await
        .expect("alter configs");
    for result in results {
        result.expect("retention shortened");
    }
}

fn filler_letter(id: &str) -> DeadLetterRecord {
    let event = RawEventRecord::new(
        EventId::parse(id).unwrap(),
        "filler".into(),
        "rolls the segment".into(),
        OffsetDateTime::now_utc(),
        "0af7651916cd43dd8448eb211c80319c".into(),
        Default::default(),
    );
    DeadLetterRecord::new(
        event,
        "testBrand".into(),
        ErrorKind::ClientError,
        "filler".into(),
        vec![],
    )
}
