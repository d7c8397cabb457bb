//! `orchctl replay`: moves a consumer group's committed offsets on a topic
//! back (or forward) to a time, an offset or the beginning, so the group
//! processes those records again. Refuses while the group has live members:
//! they would overwrite the new offsets with their own at the next commit.

use std::process::ExitCode;

use anyhow::Context;
use orch_kafka::BaseConsumer;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use time::OffsetDateTime;

use crate::offsets::{self, KAFKA_TIMEOUT, PartitionOffsets};
use crate::output::OutputArg;
use crate::parse_time;

/// Where to move the group to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayFrom {
    /// The first record with a timestamp at or after this time.
    Time(OffsetDateTime),
    /// This offset in every partition (clamped to what the log still holds).
    Offset(i64),
    /// The oldest record the log still holds.
    Beginning,
}

/// Arguments of `orchctl replay`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("from").required(true).args(["to_time", "to_offset", "to_beginning"])))]
pub struct ReplayArgs {
    /// The consumer group to move, e.g. `orch-dispatcher`.
    #[arg(long)]
    pub group: String,
    /// The topic's full name; defaults to the raw events topic under the prefix.
    #[arg(long)]
    pub topic: Option<String>,
    /// Replay records written at or after this RFC 3339 time.
    #[arg(long, value_parser = parse_time)]
    pub to_time: Option<OffsetDateTime>,
    /// Replay from this offset in every partition.
    #[arg(long)]
    pub to_offset: Option<i64>,
    /// Replay everything the log still holds.
    #[arg(long)]
    pub to_beginning: bool,
    /// Print what would change, per partition, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub kafka: orch_kafka::KafkaConfig,
    #[command(flatten)]
    pub output: OutputArg,
}

impl ReplayArgs {
    fn from(&self) -> ReplayFrom {
        match (self.to_time, self.to_offset) {
            (Some(time), _) => ReplayFrom::Time(time),
            (None, Some(offset)) => ReplayFrom::Offset(offset),
            (None, None) => ReplayFrom::Beginning,
        }
    }

    fn topic(&self) -> String {
        self.topic
            .clone()
            .unwrap_or_else(|| self.kafka.topics().raw)
    }
}

/// One partition's move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PartitionMove {
    pub current: PartitionOffsets,
    /// The offset the group will resume from.
    pub target: i64,
}

impl PartitionMove {
    /// Records processed again (positive) or skipped (negative).
    pub fn affected(&self) -> i64 {
        let resume_from = self.current.committed.unwrap_or(self.current.low);
        resume_from - self.target
    }
}

/// What `replay` did or, with `--dry-run`, would do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplayPlan {
    pub group: String,
    pub topic: String,
    pub moves: Vec<PartitionMove>,
    pub applied: bool,
}

impl ReplayPlan {
    /// Records processed again, over all partitions.
    pub fn affected(&self) -> i64 {
        self.moves.iter().map(PartitionMove::affected).sum()
    }
}

/// `orchctl replay`: moves the offsets (or plans it) and prints the plan.
pub async fn run(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let plan = {
        let args = args.clone();
        tokio::task::spawn_blocking(move || replay(&args)).await??
    };
    args.output.print(&plan, print)?;
    Ok(ExitCode::SUCCESS)
}

/// Plans the move, refuses if the group is live, and commits it unless dry-run.
pub fn replay(args: &ReplayArgs) -> anyhow::Result<ReplayPlan> {
    let topic = args.topic();
    let consumer = offsets::group_handle(&args.kafka, &args.group)
        .context("Could not create a Kafka client")?;
    offsets::refuse_if_active(
        &consumer,
        &args.group,
        "They would overwrite the new offsets.",
        "kubectl -n event-orchestrator scale deployment/event-orchestrator-dispatcher --replicas=0 \
         (with KEDA on, first: kubectl -n event-orchestrator annotate scaledobject/event-orchestrator-dispatcher \
         autoscaling.keda.sh/paused-replicas=0 --overwrite)",
    )?;
    let current = offsets::partition_offsets(&consumer, &topic)?;
    let moves = plan_moves(&consumer, &topic, &current, args.from())?;
    let mut plan = ReplayPlan {
        group: args.group.clone(),
        topic: topic.clone(),
        moves,
        applied: false,
    };
    if args.dry_run {
        return Ok(plan);
    }
    let mut list = TopicPartitionList::new();
    for step in &plan.moves {
        list.add_partition_offset(&topic, step.current.partition, Offset::Offset(step.target))?;
    }
    consumer.commit(&list, CommitMode::Sync).with_context(|| {
        format!(
            "Kafka refused the new offsets for group {:?}; if a member joined meanwhile, stop it and run this again",
            args.group
        )
    })?;
    plan.applied = true;
    Ok(plan)
}

fn plan_moves(
    consumer: &BaseConsumer,
    topic: &str,
    current: &[PartitionOffsets],
    from: ReplayFrom,
) -> anyhow::Result<Vec<PartitionMove>> {
    let targets: Vec<i64> = match from {
        ReplayFrom::Beginning => current.iter().map(|p| p.low).collect(),
        ReplayFrom::Offset(offset) => current
            .iter()
            .map(|p| offset.clamp(p.low, p.high))
            .collect(),
        ReplayFrom::Time(time) => {
            let millis = i64::try_from(time.unix_timestamp_nanos() / 1_000_000)
                .context("the time is out of range")?;
            let mut list = TopicPartitionList::new();
            for p in current {
                list.add_partition_offset(topic, p.partition, Offset::Offset(millis))?;
            }
            let found = consumer.offsets_for_times(list, KAFKA_TIMEOUT)?;
            current
                .iter()
                .map(|p| {
                    match found
                        .find_partition(topic, p.partition)
                        .map(|entry| entry.offset())
                    {
                        Some(Offset::Offset(offset)) => offset,
                        // No record at or after the time: nothing to replay.
                        _ => p.high,
                    }
                })
                .collect()
        }
    };
    Ok(current
        .iter()
        .zip(targets)
        .map(|(current, target)| PartitionMove {
            current: *current,
            target,
        })
        .collect())
}

/// Prints the plan as a table, one partition a line.
pub fn print(plan: &ReplayPlan) {
    println!(
        "{} group {:?} on {}:",
        if plan.applied {
            "Moved"
        } else {
            "Would move (dry run)"
        },
        plan.group,
        plan.topic
    );
    println!(
        "{:>9} {:>12} {:>12} {:>12}",
        "partition", "current", "target", "affected"
    );
    for step in &plan.moves {
        let current = step
            .current
            .committed
            .map_or_else(|| "none".to_owned(), |c| c.to_string());
        println!(
            "{:>9} {:>12} {:>12} {:>12}",
            step.current.partition,
            current,
            step.target,
            step.affected()
        );
    }
    println!(
        "{} record(s) will be processed again (negative: skipped) once the group's consumers start.",
        plan.affected()
    );
}
