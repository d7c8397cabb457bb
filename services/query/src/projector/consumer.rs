use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use orch_contracts::Topics;
use orch_kafka::{KafkaHeaders, Retries};
use orch_telemetry::{InternalEvent as _, RemoteParent};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use sqlx::PgPool;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::batch::{Batch, Origin};
use super::internal_events::{BatchProjected, RecordSkipped, WriteFailed};
use super::isolate::{OnTransient, write_isolating};
use super::lag::{ProjectionLag, ProjectorContext};

/// Waits between attempts to write a batch while Postgres is down.
const WRITE_RETRY: orch_kafka::Backoff = orch_kafka::Backoff {
    base: Duration::from_millis(100),
    max: Duration::from_secs(10),
};

/// The projector's consumer: it exports its lag per partition, in records
/// and (for the read model as a whole) in seconds.
pub(crate) type ProjectorConsumer = StreamConsumer<ProjectorContext>;

/// A consumer in the projector group, subscribed to raw and status records.
pub(crate) fn build(
    kafka: &orch_kafka::KafkaConfig,
    group_id: &str,
) -> Result<ProjectorConsumer, rdkafka::error::KafkaError> {
    // Only offsets stored after the batch's transaction committed are committed.
    let consumer: ProjectorConsumer = kafka
        .consumer_config("orch-projector", group_id)
        .create_with_context(ProjectorContext {
            lag: Arc::new(ProjectionLag::default()),
            tokens: kafka.security.tokens(),
        })?;
    let topics = kafka.topics();
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
    let mut budgets = Vec::new();
    for _ in 0..writers.max(1) {
        // The count bounds the queue's slots; the byte budget bounds what
        // they hold (records are up to a megabyte each).
        let (sender, receiver) = mpsc::channel(batching.max * 2);
        senders.push(sender);
        budgets.push(Arc::new(Semaphore::new(batching.buffer_bytes)));
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
                tracing::warn!(error = %orch_telemetry::error_chain(&error), "Consumer error; continuing.");
                continue;
            }
        };
        let writer = usize::try_from(message.partition()).unwrap_or(0) % senders.len();
        // A record bigger than the whole budget takes all of it, alone.
        let bytes = payload_len(&message)
            .clamp(1, batching.buffer_bytes)
            .try_into()
            .unwrap_or(u32::MAX);
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = budgets[writer].clone().acquire_many_owned(bytes) => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            sent = senders[writer].send((message, permit)) => if sent.is_err() { break },
        }
    }
    drop(senders);
    for task in tasks {
        if task.await.is_err() {
            tracing::error!("A projection writer panicked.");
        }
    }
    if let Err(error) = orch_kafka::commit_stored(&*consumer) {
        tracing::warn!(error = %orch_telemetry::error_chain(&error), "Final offset commit failed; the last batch will be replayed.")
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
    /// Most payload bytes a writer holds, queued and batched together; a
    /// batch is written when it holds half of it.
    pub(crate) buffer_bytes: usize,
}

/// One writer: batches its records, writes each batch durably, then stores
/// its offsets.
async fn write_batches(
    mut records: mpsc::Receiver<(OwnedMessage, OwnedSemaphorePermit)>,
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
        // Kafka's timestamp of the newest record per partition, for the lag clock.
        let mut newest: HashMap<(String, i32), i64> = HashMap::new();
        // Every record's Kafka timestamp, for how long each took to show.
        let mut stamps = Vec::new();
        // One span per traced record, open from its arrival until its batch
        // commits: its length is how long the record took to become visible.
        let mut spans = Vec::new();
        // The batch's share of the byte budget, given back once it is written.
        let mut held = Vec::new();
        let mut bytes = 0;
        while count < batching.max && bytes < batching.buffer_bytes / 2 {
            let wait = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            // Biased, records before the deadline: records already queued
            // join this batch however late it is, so the deadline only ends
            // waiting for more. (Unbiased, an elapsed deadline won half the
            // draws and cut batches short while records waited — with no
            // wait at all, catch-up fell to a third.)
            let (message, permit) = tokio::select! {
                biased;
                () = shutdown.cancelled() => break 'batches,
                message = records.recv() => match message {
                    Some(message) => message,
                    None => break 'batches,
                },
                () = wait => break,
            };
            bytes += payload_len(&message);
            held.push(permit);
            deadline.get_or_insert_with(|| Instant::now() + batching.wait);
            count += 1;
            if let Some(ms) = message.timestamp().to_millis() {
                stamps.push(ms);
                let slot = newest
                    .entry((message.topic().to_owned(), message.partition()))
                    .or_insert(ms);
                *slot = (*slot).max(ms);
            }
            if let Some(span) = record_span(&message) {
                spans.push(span);
            }
            let payload = message.payload().unwrap_or_default();
            let origin = Origin {
                topic: message.topic().to_owned(),
                partition: message.partition(),
                offset: message.offset(),
            };
            if let Err(error) = batch.push(&topics, origin, payload) {
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
        if !batch.is_empty() {
            let mut backoff = Backoff::new(&shutdown);
            if write_isolating(&pool, batch, &mut backoff).await.is_err() {
                break; // shutting down: the batch's offsets stay unstored
            }
        }
        drop(held);
        BatchProjected {
            records: count,
            stamps: &stamps,
        }
        .emit();
        for ((topic, partition), ms) in newest {
            consumer.context().lag.projected(&topic, partition, ms);
        }
        for ((topic, partition), offset) in offsets {
            // Fails only if the partition was revoked meanwhile; its new owner
            // projects the batch again, which the upserts absorb.
            if let Err(error) = consumer.store_offset(&topic, partition, offset) {
                tracing::warn!(error = %orch_telemetry::error_chain(&error), %topic, partition, "Could not store offset.");
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

/// The live projector waits out a transient failure with backoff, for as
/// long as it takes, until shutdown.
struct Backoff<'a> {
    retries: Retries,
    shutdown: &'a CancellationToken,
}

impl<'a> Backoff<'a> {
    fn new(shutdown: &'a CancellationToken) -> Self {
        Self {
            retries: WRITE_RETRY.retries(),
            shutdown,
        }
    }
}

impl OnTransient for Backoff<'_> {
    async fn wait(&mut self, error: &sqlx::Error) -> Result<(), ()> {
        let retry_in = self.retries.failed();
        WriteFailed { error, retry_in }.emit();
        orch_kafka::wait(self.shutdown, retry_in)
            .await
            .map_err(|_| ())
    }
}

fn payload_len(message: &OwnedMessage) -> usize {
    message.payload().map_or(0, <[u8]>::len)
}
