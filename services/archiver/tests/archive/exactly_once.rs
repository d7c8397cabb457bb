use std::collections::BTreeSet;
use std::time::Duration;

use orch_kafka::KafkaConfig;
use orch_objects::{ArchiveReader, Objects};
use orch_testkit::PATIENCE;
use orch_testkit::objects::{OwnObjectStore, create_bucket_at};

use crate::support::{Archiver, await_until, produce_dead_letters, read_archive};

const LETTERS: usize = 2_000;

/// 2,000 dead letters reach the archive exactly once each, although the
/// archiver is SIGKILLed while it holds an open object and the store is
/// restarted while the archiver writes to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dead_letter_is_archived_once_across_a_kill_and_a_store_restart() {
    let mut store = OwnObjectStore::start();
    let prefix = orch_testkit::unique_prefix();
    let bucket = create_bucket_at(&store.url(), &prefix).await;
    let mut kafka = KafkaConfig::local(&orch_testkit::bootstrap(), &prefix);
    kafka.kafka_topic_partitions = 3;
    orch_kafka::ensure_topics(&kafka).await.expect("topics");
    let log = orch_testkit::scratch_dir("archiver").join("archiver.log");
    // Small objects, so there are many and a kill always finds one open.
    let env = [
        ("ARCHIVER_ROLL_BYTES", "16384"),
        ("ARCHIVER_ROLL_SECS", "1"),
        ("ARCHIVER_RETRY_MAX_MS", "500"),
    ];
    let ids: Vec<String> = (0..LETTERS)
        .map(|i| format!("{prefix}poison-{i:04}"))
        .collect();

    // Round 1: letters keep arriving; SIGKILL while an object is open.
    let mut archiver = Archiver::start(&kafka, &bucket, &env, &log).await;
    let trickle = {
        let (kafka, ids) = (kafka.clone(), ids[..1_000].to_vec());
        tokio::spawn(async move {
            for chunk in ids.chunks(20) {
                produce_dead_letters(&kafka, chunk).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    await_until("an object written and another open", PATIENCE, || async {
        archiver.metric("orch_archiver_objects_written_total").await >= 3.0
            && archiver.metric("orch_archiver_buffered_bytes").await > 0.0
    })
    .await;
    archiver.kill();
    eprintln!("archiver SIGKILLed with an object open");
    trickle.await.expect("first thousand written");

    // Round 2: a new archiver; the store restarts while it writes.
    let mut archiver = Archiver::start(&kafka, &bucket, &env, &log).await;
    produce_dead_letters(&kafka, &ids[1_000..1_500]).await;
    await_until("the new archiver writing", PATIENCE, || async {
        archiver.metric("orch_archiver_objects_written_total").await >= 1.0
    })
    .await;
    store.stop();
    produce_dead_letters(&kafka, &ids[1_500..]).await;
    await_until(
        "writes failing while the store is down",
        PATIENCE,
        || async { archiver.metric("orch_archiver_write_failures_total").await >= 1.0 },
    )
    .await;
    eprintln!("store down: writes failed and were retried");
    store.up();

    let objects = Objects::connect(&bucket).expect("store client");
    let reader = ArchiveReader::new(objects);
    await_until("every letter in the manifest", 2 * PATIENCE, || async {
        reader
            .manifest()
            .await
            .is_ok_and(|entries| entries.iter().map(|e| e.records).sum::<u64>() >= LETTERS as u64)
    })
    .await;
    assert!(archiver.terminate().success(), "the archiver stops cleanly");

    let archive = read_archive(&bucket).await;
    let twice: Vec<_> = archive.ids.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "archived more than once: {twice:?}");
    let archived: BTreeSet<&String> = archive.ids.keys().collect();
    let issued: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        archived, issued,
        "every dead letter archived, none invented"
    );
    eprintln!(
        "{} letters in {} objects, each once",
        archive.ids.len(),
        archive.entries.len()
    );
}
