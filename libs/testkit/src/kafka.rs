use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedMessage;

use crate::PATIENCE;

/// Reads records from the start of `topic` on `bootstrap` until `done` says
/// so, failing the test after `patience`.
pub async fn read_topic(
    bootstrap: &str,
    topic: &str,
    patience: Duration,
    done: impl FnMut(&[OwnedMessage]) -> bool,
) -> Vec<OwnedMessage> {
    try_read_topic(bootstrap, topic, patience, done)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

/// Why a topic could not be read to the end wanted.
#[derive(Debug, thiserror::Error)]
pub enum ReadTopicError {
    /// The records wanted did not all arrive in time.
    #[error("gave up on {topic} after {patience:?} with {read} records")]
    TimedOut {
        topic: String,
        patience: Duration,
        read: usize,
    },
    /// The consumer failed.
    #[error("could not read {topic}")]
    Kafka {
        topic: String,
        #[source]
        source: KafkaError,
    },
}

/// As [`read_topic`], for callers that report a failure rather than panic
/// (the fault suite writes its report whatever happens).
pub async fn try_read_topic(
    bootstrap: &str,
    topic: &str,
    patience: Duration,
    mut done: impl FnMut(&[OwnedMessage]) -> bool,
) -> Result<Vec<OwnedMessage>, ReadTopicError> {
    let kafka = |source| ReadTopicError::Kafka {
        topic: topic.to_owned(),
        source,
    };
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set(
            "group.id",
            format!("reader-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .map_err(kafka)?;
    consumer.subscribe(&[topic]).map_err(kafka)?;
    let deadline = tokio::time::Instant::now() + patience;
    let mut messages = Vec::new();
    while !done(&messages) {
        let message = tokio::time::timeout_at(deadline, consumer.recv())
            .await
            .map_err(|_| ReadTopicError::TimedOut {
                topic: topic.to_owned(),
                patience,
                read: messages.len(),
            })?
            .map_err(kafka)?;
        messages.push(message.detach());
    }
    Ok(messages)
}

/// How many records `topic` holds (sum of high watermarks). Retries while a
/// just-created topic has no leader yet.
pub async fn topic_size(bootstrap: &str, topic: &str) -> i64 {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (bootstrap, name) = (bootstrap.to_owned(), topic.to_owned());
        let size = tokio::task::spawn_blocking(move || watermark_sum(&bootstrap, &name))
            .await
            .expect("watermark task");
        match size {
            Ok(size) => return size,
            Err(error) if tokio::time::Instant::now() < deadline => {
                eprintln!("watermarks of {topic} not available yet ({error}); retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("watermarks of {topic}: {error}"),
        }
    }
}

fn watermark_sum(bootstrap: &str, topic: &str) -> Result<i64, KafkaError> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut sum = 0;
    for partition in metadata.topics()[0].partitions() {
        let (low, high) =
            consumer.fetch_watermarks(topic, partition.id(), Duration::from_secs(10))?;
        sum += high - low;
    }
    Ok(sum)
}
