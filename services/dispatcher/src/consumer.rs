//! The poll loop. It only takes records, hands each to its own delivery task,
//! and stores offsets as events finish: slow work never runs here, so the
//! consumer keeps polling and never falls out of the group.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::context::DispatchContext;
use crate::delivery::Deliverer;
use crate::supervise::supervised;
use crate::tracker::{Finished, SharedTracker};

pub(crate) type DispatchConsumer = StreamConsumer<DispatchContext>;

/// How often stored offsets are committed.
pub(crate) const COMMIT_INTERVAL_MS: u64 = 100;

/// A consumer in the dispatcher group whose offsets we store ourselves.
pub(crate) fn build(
    kafka: &orch_kafka::KafkaConfig,
    group_id: &str,
    max_poll_interval_ms: u64,
    context: DispatchContext,
) -> Result<DispatchConsumer, rdkafka::error::KafkaError> {
    // Offsets are committed in the background, but only offsets we stored
    // ourselves after an event's outcome was acknowledged by Kafka.
    let consumer: DispatchConsumer = kafka
        .consumer_config("orch-dispatcher", group_id)
        .set("max.poll.interval.ms", max_poll_interval_ms.to_string())
        // Cooperative rebalancing moves only the partitions that change owner;
        // the eager default revokes everything, abandoning (and later
        // redelivering) every replica's in-flight work at each rebalance.
        .set("partition.assignment.strategy", "cooperative-sticky")
        // Finished offsets not yet committed are redelivered after a crash:
        // commit often, so that is little more than the in-flight window.
        .set("auto.commit.interval.ms", COMMIT_INTERVAL_MS.to_string())
        // A partition resumed after its window drained should refill at once,
        // not after a long-poll fetch of another partition returns.
        .set("fetch.wait.max.ms", "20")
        .create_with_context(context)?;
    consumer.subscribe(&[&kafka.topics().raw])?;
    Ok(consumer)
}

/// An event's task is over: its outcome is durable, or it was abandoned.
struct Done {
    partition: i32,
    offset: i64,
    epoch: u64,
    durable: bool,
}

/// Reports a task's end exactly once, even if the task is dropped before it
/// finishes (runtime shutdown): then as abandoned, so nothing waits for it.
struct DoneGuard {
    done: Option<Done>,
    tx: mpsc::UnboundedSender<Done>,
}

impl DoneGuard {
    fn finish(mut self, durable: bool) {
        if let Some(mut done) = self.done.take() {
            done.durable = durable;
            let _ = self.tx.send(done);
        }
    }
}

impl Drop for DoneGuard {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = self.tx.send(done);
        }
    }
}

/// Takes records until `shutdown`; then stops fetching, lets in-flight events
/// finish for up to `grace`, abandons the rest, commits and leaves the group.
pub(crate) async fn run(
    consumer: DispatchConsumer,
    tracker: Arc<SharedTracker>,
    deliverer: Arc<Deliverer>,
    grace: Duration,
    shutdown: CancellationToken,
) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(done) = done_rx.recv() => finish(&consumer, &tracker, &done),
            received = consumer.recv() => {
                let message = match received {
                    Ok(message) => message.detach(),
                    Err(error) => {
                        tracing::warn!(error = %orch_telemetry::error_chain(&error), "Consumer error; continuing.");
                        continue;
                    }
                };
                let (partition, offset) = (message.partition(), message.offset());
                let started = tracker.start(partition, offset);
                // A record of a partition revoked meanwhile: its new owner has it.
                let Some(started) = started else { continue };
                if started.pause {
                    set_paused(&consumer, partition, true);
                }
                let guard = DoneGuard {
                    done: Some(Done { partition, offset, epoch: started.epoch, durable: false }),
                    tx: done_tx.clone(),
                };
                let deliverer = deliverer.clone();
                tokio::spawn(async move {
                    let durable = supervised(&deliverer, &message, &started.cancel).await.is_ok();
                    guard.finish(durable);
                });
                metrics::gauge!("orch_dispatcher_in_flight").increment(1.0);
            }
        }
    }

    // Graceful stop: fetch nothing more, give in-flight events `grace` to finish.
    let assigned = tracker.assigned();
    for partition in &assigned {
        set_paused(&consumer, *partition, true);
    }
    let deadline = tokio::time::Instant::now() + grace;
    while tracker.in_flight() > 0 {
        tokio::select! {
            Some(done) = done_rx.recv() => finish(&consumer, &tracker, &done),
            () = tokio::time::sleep_until(deadline) => {
                let left = tracker.in_flight();
                tracing::warn!(left, "Shutdown grace period over; abandoning in-flight events (they will be redelivered).");
                tracker.cancel_all();
                break;
            }
        }
    }
    match orch_kafka::commit_stored(&consumer) {
        Ok(orch_kafka::Committed::Offsets) => tracing::info!("Committed offsets at shutdown."),
        Ok(orch_kafka::Committed::Nothing) => {}
        Err(error) => {
            tracing::warn!(error = %orch_telemetry::error_chain(&error), "Final offset commit failed; the next owner may redeliver a few events.")
        }
    }
    consumer.unsubscribe();
}

fn finish(consumer: &DispatchConsumer, tracker: &SharedTracker, done: &Done) {
    metrics::gauge!("orch_dispatcher_in_flight").decrement(1.0);
    if !done.durable {
        // Abandoned: its offset stays uncommitted, so it is delivered again.
        return;
    }
    let Finished { commit, resume_at } = tracker.finish(done.partition, done.offset, done.epoch);
    if let Some(next) = commit {
        let mut offsets = TopicPartitionList::new();
        if let Err(error) = offsets
            .add_partition_offset(
                &consumer.context().topic,
                done.partition,
                Offset::Offset(next),
            )
            .and_then(|()| consumer.store_offsets(&offsets))
        {
            // Only when the partition was revoked meanwhile; its new owner redelivers.
            tracing::debug!(error = %orch_telemetry::error_chain(&error), partition = done.partition, "Could not store offset.");
        }
    }
    if let Some(next) = resume_at {
        set_paused(consumer, done.partition, false);
        wake_fetcher(consumer, done.partition, next);
    }
}

fn set_paused(consumer: &DispatchConsumer, partition: i32, paused: bool) {
    let mut list = TopicPartitionList::new();
    // The topic is borrowed from the context: no allocation per finished event.
    list.add_partition(&consumer.context().topic, partition);
    let result = if paused {
        consumer.pause(&list)
    } else {
        consumer.resume(&list)
    };
    if let Err(error) = result {
        tracing::warn!(error = %orch_telemetry::error_chain(&error), partition, paused, "Could not pause or resume a partition.");
    }
}

/// librdkafka does not wake its fetcher on `resume`: when every partition was
/// paused, the broker thread sleeps up to a second before it fetches again,
/// idling the whole window. A seek to the very offset the fetch would resume
/// from restarts the partition's fetch state, which does wake it. The seek is
/// asynchronous (timeout 0), so the poll loop never blocks on it.
fn wake_fetcher(consumer: &DispatchConsumer, partition: i32, next: i64) {
    let topic = &consumer.context().topic;
    if let Err(error) = consumer.seek(topic, partition, Offset::Offset(next), Duration::ZERO) {
        tracing::debug!(error = %orch_telemetry::error_chain(&error), partition, next, "Could not restart fetching after a resume.");
    }
}
