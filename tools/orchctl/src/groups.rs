//! `orchctl groups`: every consumer group, its state and members, and its lag
//! per partition on the orchestrator's topics.

use anyhow::Context;
use rdkafka::consumer::Consumer;

use crate::offsets::{self, KAFKA_TIMEOUT};

/// Arguments of `orchctl groups`.
#[derive(Debug, Clone, clap::Args)]
pub struct GroupsArgs {
    /// Only this group.
    #[arg(long)]
    pub group: Option<String>,
    #[command(flatten)]
    pub kafka: orch_kafka::KafkaConfig,
}

/// Prints each group with its members and, for every topic of this deployment
/// it has committed offsets on, the lag per partition.
pub fn run(args: &GroupsArgs) -> anyhow::Result<()> {
    let admin = offsets::group_handle(&args.kafka, "orchctl-groups")
        .context("Could not create a Kafka client")?;
    let list = admin
        .client()
        .fetch_group_list(args.group.as_deref(), KAFKA_TIMEOUT)
        .context("Could not list the consumer groups")?;
    let topics = args.kafka.topics();
    let mut shown = 0;
    for info in list.groups() {
        if info.protocol_type() != "consumer" && !info.protocol_type().is_empty() {
            continue;
        }
        shown += 1;
        println!(
            "group {} ({}, {} member(s))",
            info.name(),
            info.state(),
            info.members().len()
        );
        for member in info.members() {
            println!(
                "  member {} on {}",
                member.client_id(),
                member.client_host()
            );
        }
        let handle = offsets::group_handle(&args.kafka, info.name())?;
        for topic in [&topics.raw, &topics.status, &topics.dlq] {
            let Ok(partitions) = offsets::partition_offsets(&handle, topic) else {
                continue;
            };
            if partitions.iter().all(|p| p.committed.is_none()) {
                continue;
            }
            let lag: i64 = partitions.iter().map(|p| p.lag()).sum();
            println!("  {topic}: lag {lag}");
            for p in &partitions {
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
    if shown == 0 {
        println!("No consumer groups.");
    }
    Ok(())
}
