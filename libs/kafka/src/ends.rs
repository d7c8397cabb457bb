//! A topic's partitions and their end offsets, read once the topic is
//! ready. A topic created a moment ago (by this replica or a sibling that
//! started at the same time) has no leader for a while: the metadata shows
//! it without partitions or with a leader of -1, and a watermark request
//! answers `NotLeaderForPartition`. Those answers mean "not yet", not "no".

use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// How long one metadata or watermark request may take.
const REQUEST: Duration = Duration::from_secs(5);
/// The pause between two looks at a topic that is not ready yet.
const SETTLE: Duration = Duration::from_millis(200);

/// One partition's offsets: the first still held and the next to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionEnds {
    /// The partition.
    pub partition: i32,
    /// The low watermark: the oldest offset retention has kept.
    pub low: i64,
    /// The high watermark: the offset the next record will get.
    pub high: i64,
}

/// Every partition of `topic` with its watermarks, waiting up to
/// `within` for a just-created topic to get its leaders. Blocking. Errors
/// that do not mean "not ready yet" (a refused login, an unknown broker)
/// are returned at once.
pub fn partition_ends<C>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    within: Duration,
) -> Result<Vec<PartitionEnds>, KafkaError>
where
    C: ClientContext + ConsumerContext,
{
    let deadline = Instant::now() + within;
    loop {
        match ends_now(consumer, topic) {
            Ok(ends) => return Ok(ends),
            Err(error) if settling(&error) && Instant::now() + SETTLE < deadline => {
                tracing::debug!(%topic, error = %orch_telemetry::error_chain(&error), "Topic not ready yet; looking again.");
                std::thread::sleep(SETTLE);
            }
            Err(error) => return Err(error),
        }
    }
}

fn ends_now<C>(consumer: &BaseConsumer<C>, topic: &str) -> Result<Vec<PartitionEnds>, KafkaError>
where
    C: ClientContext + ConsumerContext,
{
    let metadata = consumer.fetch_metadata(Some(topic), REQUEST)?;
    let not_ready = |code| Err(KafkaError::MetadataFetch(code));
    let Some(described) = metadata.topics().iter().find(|t| t.name() == topic) else {
        return not_ready(RDKafkaErrorCode::UnknownTopicOrPartition);
    };
    if let Some(error) = described.error() {
        return not_ready(error.into());
    }
    if described.partitions().is_empty() {
        return not_ready(RDKafkaErrorCode::UnknownTopicOrPartition);
    }
    let mut ends = Vec::with_capacity(described.partitions().len());
    for partition in described.partitions() {
        if partition.leader() < 0 {
            return not_ready(RDKafkaErrorCode::LeaderNotAvailable);
        }
        if let Some(error) = partition.error() {
            return not_ready(error.into());
        }
        let (low, high) = consumer.fetch_watermarks(topic, partition.id(), REQUEST)?;
        ends.push(PartitionEnds {
            partition: partition.id(),
            low,
            high,
        });
    }
    Ok(ends)
}

/// Whether `error` is what a topic still being created or moved answers.
fn settling(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::UnknownTopicOrPartition
                | RDKafkaErrorCode::UnknownPartition
                | RDKafkaErrorCode::UnknownTopic
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::OperationTimedOut
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::BrokerTransportFailure
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_still_being_created_is_not_ready_yet_but_a_refused_login_is_final() {
        for code in [
            RDKafkaErrorCode::NotLeaderForPartition,
            RDKafkaErrorCode::LeaderNotAvailable,
            RDKafkaErrorCode::UnknownTopicOrPartition,
        ] {
            assert!(settling(&KafkaError::MetadataFetch(code)), "{code:?}");
        }
        for code in [
            RDKafkaErrorCode::SaslAuthenticationFailed,
            RDKafkaErrorCode::TopicAuthorizationFailed,
        ] {
            assert!(!settling(&KafkaError::MetadataFetch(code)), "{code:?}");
        }
    }
}
