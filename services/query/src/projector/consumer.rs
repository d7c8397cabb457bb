use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use orch_contracts::Topics;
use orch_kafka::{KafkaHeaders, LagContext};
use orch_telemetry::{InternalEvent as _, RemoteParent};
use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::batch::Batch;
use super::internal_events::{BatchProjected, RecordSkipped, WriteFailed};
use super::store;
use crate::QueryConfig;

/// Largest wait between attempts to write a batch while Postgres is down.
const MAX_WRITE_BACKOFF: Duration = Duration::from_secs(10);

/// The projector's consumer: it exports its lag per partition.
pub(crate) type ProjectorConsumer = StreamConsumer<LagContext>;

/// A consumer in the projector group, subscribed to raw and status records.
pub(crate) fn build(config: &QueryConfig) -> Result<ProjectorConsumer, rdkafka::error::KafkaError> {
    // Only offsets stored after the batch's transaction committed are committed.
    let consumer: ProjectorConsumer = config
        .kafka
        .consumer_config("orch-projector", &config.group_id)
        .create_with_context(LagContext {
            consumer: "projector",
            tokens: config.kafka.security.tokens(),
        })?;
    let topics = config.kafka.topics();
    consumer.subscribe(&[&topics.raw, &topics.status])?;
    Ok(consumer)
}

/// Routes records to `writers` writers by partition and, on shutdown, commits
/// what they stored.
pub(crate) async fn run(
    consumer: ProjectorConsumer,
    pool: PgPool,
    topics: Topics,
    batching: Batching,
    writers: usize,
    shutdown: CancellationToken,
) {
    let consumer = Arc::new(consumer);
    let mut senders = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..writers.max(1) {
        let (sender, receiver) = mpsc::channel(batching.max * 2);
        senders.push(sender);
        tasks.push(tokio::spawn(write_batches(
            receiver,
            consumer.clone(),
            pool.clone(),
            topics.clone(),
            batching,
            shutdown.clone(),
        )));
    }
    // A partition always goes to the same writer, so its records are written
    // in order and its offsets stored by one hand. Both topics are keyed by
    // event id, so writers mostly touch different rows; where they meet, the
    // order-independent upserts make the outcome the same either way.
    loop {
        let received = tokio::select! {
            () = shutdown.cancelled() => break,
            received = consumer.recv() => received,
        };
        let message = match received {
            Ok(message) => message.detach(),
            Err(error) => {
                tracing::warn!(%error, "Consumer error; continuing.");
                continue;
            }
        };
        let writer = usize::try_from(message.partition()).unwrap_or(0) % senders.len();
        tokio::select! {
            () = shutdown.cancelled() => break,
            sent = senders[writer].send(message) => if sent.is_err() { break },
        }
    }
    drop(senders);
    for task in tasks {
        if task.await.is_err() {
            tracing::error!("A projection writer panicked.");
        }
    }
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(())
        | Err(rdkafka::error::KafkaError::ConsumerCommit(
            rdkafka::types::RDKafkaErrorCode::NoOffset,
        )) => {}
        Err(error) => {
            tracing::warn!(%error, "Final offset commit failed; the last batch will be replayed.")
        }
    }
    consumer.unsubscribe();
}

/// How records are grouped into transactions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batching {
    /// Most records in one transaction.
    pub(crate) max: usize,
    /// Longest wait to fill a batch once its first record arrived.
    pub(crate) wait: Duration,
}

/// One writer: batches its records, writes each batch durably, then stores
/// its offsets.
async fn write_batches(
    mut records: mpsc::Receiver<OwnedMessage>,
    consumer: Arc<ProjectorConsumer>,
    pool: PgPool,
    topics: Topics,
    batching: Batching,
    shutdown: CancellationToken,
) {
    'batches: loop {
        let mut batch = Batch::default();
        // Last offset seen per (topic, partition); librdkafka commits it + 1.
        let mut offsets: HashMap<(String, i32), i64> = HashMap::new();
        let mut count = 0;
        let mut deadline = None;
        // Kafka's timestamp of the batch's newest record, for the lag gauge.
        let mut newest_ms = None;
        // One span per traced record, open from its arrival until its batch
        // commits: its length is how long the record took to become visible.
        let mut spans = Vec::new();
        while count < batching.max {
            let wait = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            let message = tokio::select! {
                () = shutdown.cancelled() => break 'batches,
                () = wait => break,
                message = records.recv() => match message {
                    Some(message) => message,
                    None => break 'batches,
                },
            };
            deadline.get_or_insert_with(|| Instant::now() + batching.wait);
            count += 1;
            if let Some(ms) = message.timestamp().to_millis() {
                newest_ms = newest_ms.max(Some(ms));
            }
            if let Some(span) = record_span(&message) {
                spans.push(span);
            }
            let payload = message.payload().unwrap_or_default();
            if let Err(error) = batch.push(&topics, message.topic(), payload) {
                RecordSkipped {
                    topic: message.topic(),
                    partition: message.partition(),
                    offset: message.offset(),
                    error: &error,
                }
                .emit();
            }
            offsets.insert(
                (message.topic().to_owned(), message.partition()),
                message.offset(),
            );
        }
        if !batch.is_empty() && write_until_done(&pool, &batch, &shutdown).await.is_err() {
            break;
        }
        BatchProjected {
            records: count,
            newest_ms,
        }
        .emit();
        for ((topic, partition), offset) in offsets {
            // Fails only if the partition was revoked meanwhile; its new owner
            // projects the batch again, which the upserts absorb.
            if let Err(error) = consumer.store_offset(&topic, partition, offset) {
                tracing::warn!(%error, %topic, partition, "Could not store offset.");
            }
        }
    }
}

/// A span for `message` continuing the trace in its headers, when that trace
/// is being recorded.
fn record_span(message: &OwnedMessage) -> Option<tracing::Span> {
    let parent = RemoteParent::extract(&KafkaHeaders(message.headers()?))?;
    parent
        .is_sampled()
        .then(|| orch_kafka::consumer_span!("project_record", message, parent))
}

/// Retries the batch with backoff until Postgres takes it; `Err` on shutdown,
/// leaving its offsets unstored so the batch is replayed later.
async fn write_until_done(
    pool: &PgPool,
    batch: &Batch,
    shutdown: &CancellationToken,
) -> Result<(), ()> {
    let mut delay = Duration::from_millis(100);
    loop {
        match store::write(pool, batch).await {
            Ok(()) => return Ok(()),
            Err(error) => {
                WriteFailed {
                    error: &error,
                    retry_in: delay,
                }
                .emit();
                tokio::select! {
                    () = shutdown.cancelled() => return Err(()),
                    () = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(MAX_WRITE_BACKOFF);
            }
        }
    }
}
