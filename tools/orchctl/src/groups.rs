//! `orchctl groups`: every consumer group, its state and members, and its lag
//! per partition on the orchestrator's topics.

use std::process::ExitCode;

use anyhow::Context;
use rdkafka::consumer::Consumer;

use crate::offsets::{self, KAFKA_TIMEOUT, Member, PartitionOffsets};
use crate::output::OutputArg;

/// Arguments of `orchctl groups`.
#[derive(Debug, Clone, clap::Args)]
pub struct GroupsArgs {
    /// Only this group.
    #[arg(long)]
    pub group: Option<String>,
    #[command(flatten)]
    pub kafka: orch_kafka::KafkaConfig,
    #[command(flatten)]
    pub output: OutputArg,
}

/// One consumer group as `orchctl groups` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupView {
    pub name: String,
    pub state: String,
    pub members: Vec<Member>,
    /// Each topic of this deployment the group has committed offsets on.
    pub topics: Vec<TopicLag>,
}

/// A group's position on one topic.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TopicLag {
    pub topic: String,
    /// Records the group has yet to process, over all partitions.
    pub lag: i64,
    pub partitions: Vec<PartitionOffsets>,
}

/// `orchctl groups`: prints each group with its members and, for every topic
/// of this deployment it has committed offsets on, the lag per partition.
pub async fn run(args: &GroupsArgs) -> anyhow::Result<ExitCode> {
    let groups = {
        let args = args.clone();
        tokio::task::spawn_blocking(move || groups(&args)).await??
    };
    args.output.print(groups.as_slice(), print)?;
    Ok(ExitCode::SUCCESS)
}

/// Reads every consumer group (or the one asked for) and its positions.
pub fn groups(args: &GroupsArgs) -> anyhow::Result<Vec<GroupView>> {
    let admin = offsets::group_handle(&args.kafka, "orchctl-groups")
        .context("Could not create a Kafka client")?;
    let list = admin
        .client()
        .fetch_group_list(args.group.as_deref(), KAFKA_TIMEOUT)
        .context("Could not list the consumer groups")?;
    let topics = args.kafka.topics();
    let mut groups = Vec::new();
    for info in list.groups() {
        if info.protocol_type() != "consumer" && !info.protocol_type().is_empty() {
            continue;
        }
        let handle = offsets::group_handle(&args.kafka, info.name())?;
        let mut lags = Vec::new();
        for topic in [&topics.raw, &topics.status, &topics.dlq] {
            let Ok(partitions) = offsets::partition_offsets(&handle, topic) else {
                continue;
            };
            if partitions.iter().all(|p| p.committed.is_none()) {
                continue;
            }
            lags.push(TopicLag {
                topic: topic.clone(),
                lag: partitions.iter().map(PartitionOffsets::lag).sum(),
                partitions,
            });
        }
        groups.push(GroupView {
            name: info.name().to_owned(),
            state: info.state().to_owned(),
            members: info
                .members()
                .iter()
                .map(|member| Member {
                    client_id: member.client_id().to_owned(),
                    host: member.client_host().to_owned(),
                })
                .collect(),
            topics: lags,
        });
    }
    Ok(groups)
}

fn print(groups: &[GroupView]) {
    for group in groups {
        println!(
            "group {} ({}, {} member(s))",
            group.name,
            group.state,
            group.members.len()
        );
        for member in &group.members {
            println!("  member {} on {}", member.client_id, member.host);
        }
        for topic in &group.topics {
            println!("  {}: lag {}", topic.topic, topic.lag);
            for p in &topic.partitions {
                let committed = p
                    .committed
                    .map_or_else(|| "none".to_owned(), |c| c.to_string());
                println!(
                    "    partition {:>3}  committed {:>10}  end {:>10}  lag {:>8}",
                    p.partition,
                    committed,
                    p.high,
                    p.lag()
                );
            }
        }
    }
    if groups.is_empty() {
        println!("No consumer groups.");
    }
}
