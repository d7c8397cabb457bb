use std::time::Duration;

use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use tokio_util::sync::CancellationToken;

use crate::DispatcherConfig;
use crate::delivery::Deliverer;

/// A consumer in the dispatcher group that stores offsets only when told to.
pub(crate) fn build(
    config: &DispatcherConfig,
) -> Result<StreamConsumer, rdkafka::error::KafkaError> {
    // Offsets are committed in the background, but only offsets we stored
    // ourselves after an event's outcome was acknowledged by Kafka.
    let consumer: StreamConsumer = config
        .kafka
        .consumer_config("orch-dispatcher", &config.group_id)
        .create()?;
    consumer.subscribe(&[&config.kafka.topics().raw])?;
    Ok(consumer)
}

/// Takes events one at a time until shutdown, storing each offset once the
/// event's outcome is durable; then commits and leaves the group.
pub(crate) async fn run(
    consumer: StreamConsumer,
    deliverer: Deliverer,
    shutdown: CancellationToken,
) {
    loop {
        let received = tokio::select! {
            () = shutdown.cancelled() => break,
            received = consumer.recv() => received,
        };
        let message = match received {
            Ok(message) => message.detach(),
            Err(error) => {
                tracing::warn!(%error, "Consumer error; continuing.");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        if deliverer.process(&message).await.is_err() {
            // Stopping: this event's offset stays unstored, so it is redelivered.
            break;
        }
        if let Err(error) =
            consumer.store_offset(message.topic(), message.partition(), message.offset())
        {
            // Only happens if the partition was revoked meanwhile; the new owner
            // redelivers it, which the target's idempotency absorbs.
            tracing::warn!(%error, "Could not store offset.");
        }
    }
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => tracing::info!("Committed offsets at shutdown."),
        // Nothing stored since the last commit is not a failure.
        Err(rdkafka::error::KafkaError::ConsumerCommit(
            rdkafka::types::RDKafkaErrorCode::NoOffset,
        )) => {}
        Err(error) => {
            tracing::warn!(%error, "Final offset commit failed; the next owner may redeliver a few events.")
        }
    }
    consumer.unsubscribe();
}
