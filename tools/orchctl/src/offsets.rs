//! What replay and groups read from Kafka: a topic's partitions, their
//! watermarks, a group's committed offsets and its live members.

use std::time::Duration;

use anyhow::Context;

use orch_kafka::BaseConsumer;
use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};

/// How long one Kafka request may take before orchctl gives up.
pub const KAFKA_TIMEOUT: Duration = Duration::from_secs(10);

/// One partition's position for a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PartitionOffsets {
    pub partition: i32,
    /// Oldest offset still in the log.
    pub low: i64,
    /// Next offset to be written.
    pub high: i64,
    /// The group's committed offset; None if it never committed one.
    pub committed: Option<i64>,
}

impl PartitionOffsets {
    /// Records the group has yet to process.
    pub fn lag(&self) -> i64 {
        self.high - self.committed.unwrap_or(self.low).max(self.low)
    }
}

/// One live member of a consumer group.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    pub client_id: String,
    pub host: String,
}

/// A consumer handle that reads and writes `group`'s offsets without ever
/// joining it.
pub fn group_handle(
    kafka: &orch_kafka::KafkaConfig,
    group: &str,
) -> Result<BaseConsumer, rdkafka::error::KafkaError> {
    kafka
        .client_config("orchctl")
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create_with_context(kafka.auth_context())
}

/// The group's live members (empty when the group is empty or unknown).
pub fn members(
    consumer: &BaseConsumer,
    group: &str,
) -> Result<Vec<Member>, rdkafka::error::KafkaError> {
    let list = consumer
        .client()
        .fetch_group_list(Some(group), KAFKA_TIMEOUT)?;
    Ok(list
        .groups()
        .iter()
        .filter(|info| info.name() == group)
        .flat_map(|info| info.members())
        .map(|member| Member {
            client_id: member.client_id().to_owned(),
            host: member.client_host().to_owned(),
        })
        .collect())
}

/// Every partition of `topic` with its watermarks and `consumer`'s group's
/// committed offset, in partition order.
pub fn partition_offsets(
    consumer: &BaseConsumer,
    topic: &str,
) -> anyhow::Result<Vec<PartitionOffsets>> {
    let metadata = consumer.fetch_metadata(Some(topic), KAFKA_TIMEOUT)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    anyhow::ensure!(!partitions.is_empty(), "topic {topic:?} does not exist");
    let mut list = TopicPartitionList::new();
    for partition in &partitions {
        list.add_partition(topic, *partition);
    }
    let committed = consumer.committed_offsets(list, KAFKA_TIMEOUT)?;
    let mut result = Vec::new();
    for partition in partitions {
        let (low, high) = consumer.fetch_watermarks(topic, partition, KAFKA_TIMEOUT)?;
        let committed = committed
            .find_partition(topic, partition)
            .and_then(|entry| match entry.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            });
        result.push(PartitionOffsets {
            partition,
            low,
            high,
            committed,
        });
    }
    Ok(result)
}

/// Fails, naming the members and how to stop them, if `group` has any: they
/// would undo whatever is about to be done to the group's offsets.
pub fn refuse_if_active(
    consumer: &BaseConsumer,
    group: &str,
    why: &str,
    how_to_stop: &str,
) -> anyhow::Result<()> {
    let members =
        members(consumer, group).with_context(|| format!("Could not describe group {group:?}"))?;
    if members.is_empty() {
        return Ok(());
    }
    let who: Vec<String> = members
        .iter()
        .map(|m| format!("{} on {}", m.client_id, m.host))
        .collect();
    Err(crate::exit::Refused(format!(
        "Group {group:?} has {} active member(s) ({}). {why} Stop them first (e.g. `{how_to_stop}`, \
         or stop the processes), wait for the group to be empty (`orchctl groups`), then run this again.",
        members.len(),
        who.join(", ")
    ))
    .into())
}
