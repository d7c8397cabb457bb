//! `orchctl projection rebuild`: projects the whole log into a side schema
//! with the query service's own write path, compares it column for column
//! with the live read model, and with `--promote` swaps it in.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::builder::TypedValueParser as _;
use secrecy::{ExposeSecret, SecretString};

use anyhow::Context;
use orch_kafka::BaseConsumer;
use orch_query::rebuild::{self, Checksum, Difference, LogEnd, SchemaName};
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use time::OffsetDateTime;

use crate::offsets::{self, PartitionOffsets};

/// Arguments of `orchctl projection rebuild`.
#[derive(Debug, Clone, clap::Args)]
pub struct RebuildArgs {
    /// Postgres connection URL of the read model. Never printed.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://orchestrator:orchestrator@127.0.0.1:5432/orchestrator",
        hide_default_value = true,
        hide_env_values = true,
        value_parser = clap::builder::NonEmptyStringValueParser::new().map(SecretString::from)
    )]
    pub database_url: SecretString,
    /// Schema to rebuild into (must not exist); defaults to `rebuild_<UTC time>`.
    #[arg(long)]
    pub schema: Option<SchemaName>,
    /// Schema of the live read model.
    #[arg(long, default_value = "public")]
    pub live_schema: SchemaName,
    /// The query service's projector group: compared against, and with
    /// `--promote` moved to the rebuild's end.
    #[arg(long, default_value = "orch-projector")]
    pub group: String,
    /// Replace the live model with the rebuilt one. Stop the query service
    /// first; the old tables are kept in a `retired_<UTC time>` schema.
    #[arg(long)]
    pub promote: bool,
    /// Longest wait for the live projector to reach the rebuild's end before comparing.
    #[arg(long, default_value_t = 60)]
    pub wait_secs: u64,
    /// Print what would be read and done, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub kafka: orch_kafka::KafkaConfig,
}

/// The log a rebuild reads: both topics, every partition, up to the ends
/// fixed when it started.
#[derive(Debug, Clone)]
pub struct RebuildPlan {
    pub schema: SchemaName,
    pub retired: SchemaName,
    /// Each partition with the live projector group's committed offset.
    pub partitions: Vec<(String, PartitionOffsets)>,
}

impl RebuildPlan {
    /// Records the rebuild reads.
    pub fn records(&self) -> i64 {
        self.partitions.iter().map(|(_, p)| p.high - p.low).sum()
    }

    fn ends(&self) -> Vec<LogEnd> {
        self.partitions
            .iter()
            .map(|(topic, p)| LogEnd {
                topic: topic.clone(),
                partition: p.partition,
                low: p.low,
                high: p.high,
            })
            .collect()
    }
}

/// What a rebuild found and did.
#[derive(Debug, Clone)]
pub struct RebuildReport {
    pub records: u64,
    pub rebuilt: Checksum,
    /// The live model's checksum, if there was one to compare.
    pub live: Option<Checksum>,
    /// Where they differ, if they do.
    pub difference: Option<Difference>,
    /// Records the live projector had processed past the rebuild's end when
    /// compared: differences may be theirs.
    pub live_ahead: i64,
    /// Where the replaced tables went, if promoted.
    pub retired: Option<SchemaName>,
}

impl RebuildReport {
    /// True when there was a live model and it matched in every column.
    pub fn matches(&self) -> bool {
        self.live.as_ref() == Some(&self.rebuilt)
    }
}

/// Fixes the log's ends and, for `--promote`, refuses while the projector
/// group has members.
pub fn plan(args: &RebuildArgs) -> anyhow::Result<RebuildPlan> {
    let consumer = offsets::group_handle(&args.kafka, &args.group)
        .context("Could not create a Kafka client")?;
    if args.promote {
        refuse_if_projector_live(&consumer, &args.group)?;
    }
    let topics = args.kafka.topics();
    let mut partitions = Vec::new();
    for topic in [topics.raw, topics.status] {
        for partition in offsets::partition_offsets(&consumer, &topic)? {
            partitions.push((topic.clone(), partition));
        }
    }
    let stamp = utc_stamp(OffsetDateTime::now_utc());
    let schema = match &args.schema {
        Some(schema) => schema.clone(),
        None => format!("rebuild_{stamp}").parse()?,
    };
    Ok(RebuildPlan {
        schema,
        retired: format!("retired_{stamp}").parse()?,
        partitions,
    })
}

/// Fails if the projector group has members: they would keep writing to the
/// tables being replaced.
fn refuse_if_projector_live(consumer: &BaseConsumer, group: &str) -> anyhow::Result<()> {
    offsets::refuse_if_active(
        consumer,
        group,
        "The live projector would keep writing to the tables being replaced.",
        "kubectl -n event-orchestrator scale deployment/event-orchestrator-query --replicas=0",
    )
}

/// Rebuilds, compares and (with `--promote`) swaps, printing progress to stderr.
pub async fn execute(args: &RebuildArgs, plan: &RebuildPlan) -> anyhow::Result<RebuildReport> {
    // Reads and (with --promote) sets the projector group's offsets, never joining it.
    let group = offsets::group_handle(&args.kafka, &args.group)
        .context("Could not create a Kafka client")?;
    let pool = rebuild::create(args.database_url.expose_secret(), &plan.schema)
        .await
        .with_context(|| format!("Could not create schema {}", plan.schema))?;
    let total = plan.records();
    let started = Instant::now();
    let mut last_report = Instant::now();
    let records = rebuild::project_log(&pool, &args.kafka, &plan.ends(), |read| {
        if last_report.elapsed() >= Duration::from_secs(2) {
            last_report = Instant::now();
            eprintln!("projected {read} of {total} records");
        }
    })
    .await
    .context("Projecting the log failed; the partial schema is left for inspection")?;
    eprintln!(
        "projected {records} records in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let live_exists = rebuild::has_model(&pool, &args.live_schema).await?;
    let live_ahead = if live_exists && !args.promote {
        await_live_projector(&group, args, plan).await?
    } else {
        0
    };
    let rebuilt = rebuild::checksum(&pool, &plan.schema).await?;
    let (live, difference) = if live_exists {
        let live = rebuild::checksum(&pool, &args.live_schema).await?;
        let difference = if live == rebuilt {
            None
        } else {
            Some(rebuild::differences(&pool, &args.live_schema, &plan.schema, 5).await?)
        };
        (Some(live), difference)
    } else {
        (None, None)
    };
    let retired = if args.promote {
        // Asked again: a query service may have started while the log was read.
        refuse_if_projector_live(&group, &args.group)?;
        rebuild::promote(&pool, &plan.schema, &args.live_schema, &plan.retired)
            .await
            .context("Promoting the rebuilt model failed; nothing was changed")?;
        resume_projector_after(&group, args, plan)?;
        Some(plan.retired.clone())
    } else {
        None
    };
    pool.close().await;
    Ok(RebuildReport {
        records,
        rebuilt,
        live,
        difference,
        live_ahead,
        retired,
    })
}

/// Waits until the live projector's commits reach the rebuild's end, so both
/// models saw the same records; returns how many it had processed beyond.
async fn await_live_projector(
    group: &BaseConsumer,
    args: &RebuildArgs,
    plan: &RebuildPlan,
) -> anyhow::Result<i64> {
    let topics = args.kafka.topics();
    let deadline = Instant::now() + Duration::from_secs(args.wait_secs);
    loop {
        let mut behind = 0;
        let mut ahead = 0;
        for topic in [&topics.raw, &topics.status] {
            let now = offsets::partition_offsets(group, topic)?;
            for (_, end) in plan.partitions.iter().filter(|(t, _)| t == topic) {
                let committed = now
                    .iter()
                    .find(|p| p.partition == end.partition)
                    .and_then(|p| p.committed)
                    .unwrap_or(0);
                behind += (end.high - committed).max(0);
                ahead += (committed - end.high).max(0);
            }
        }
        if behind == 0 {
            return Ok(ahead);
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "The live projector (group {:?}) is still {behind} records short of the rebuild's end \
                 after {} s; the rebuilt model is in schema {}. Check the query service, then compare \
                 again with a longer --wait-secs.",
                args.group,
                args.wait_secs,
                plan.schema
            );
        }
        eprintln!("waiting for the live projector: {behind} records to go");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Commits the rebuild's end as the projector group's offsets, so the query
/// service resumes right after what the promoted model holds.
fn resume_projector_after(
    group: &BaseConsumer,
    args: &RebuildArgs,
    plan: &RebuildPlan,
) -> anyhow::Result<()> {
    let mut list = TopicPartitionList::new();
    for (topic, end) in &plan.partitions {
        list.add_partition_offset(topic, end.partition, Offset::Offset(end.high))?;
    }
    group.commit(&list, CommitMode::Sync).with_context(|| {
        format!(
            "The model was promoted, but group {:?} kept its offsets: the query service will \
             re-project from them, which is safe but slower",
            args.group
        )
    })
}

/// `yyyymmdd_hhmmss`, for schema names.
fn utc_stamp(now: OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}_{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// `orchctl projection rebuild`: plans, prints the plan and, unless a dry
/// run, rebuilds and compares; exit code 4 when the rebuilt model differs
/// and was not promoted.
pub async fn run(args: &RebuildArgs) -> anyhow::Result<ExitCode> {
    let plan = {
        let args = args.clone();
        tokio::task::spawn_blocking(move || plan(&args)).await??
    };
    print_plan(args, &plan);
    if args.dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    let report = execute(args, &plan).await?;
    print_report(args, &plan, &report);
    if report.difference.is_some() && report.retired.is_none() {
        eprintln!("The rebuilt model differs from the live one.");
        return Ok(ExitCode::from(crate::exit::DIFFERS));
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the plan, as `--dry-run` shows it and before a real run.
pub fn print_plan(args: &RebuildArgs, plan: &RebuildPlan) {
    let verb = if args.dry_run { "would" } else { "will" };
    println!(
        "Rebuild {verb} read {} records into new schema {}:",
        plan.records(),
        plan.schema
    );
    println!(
        "{:<32} {:>9} {:>12} {:>12} {:>12}",
        "TOPIC", "PARTITION", "FROM", "TO", "RECORDS"
    );
    for (topic, p) in &plan.partitions {
        println!(
            "{topic:<32} {:>9} {:>12} {:>12} {:>12}",
            p.partition,
            p.low,
            p.high,
            p.high - p.low
        );
    }
    if plan.partitions.iter().any(|(_, p)| p.low > 0) {
        println!(
            "Note: the log no longer holds records before FROM; events only they described are not rebuilt."
        );
    }
    println!(
        "It {verb} then compare every column with the live model in schema {}.",
        args.live_schema
    );
    if args.promote {
        println!(
            "It {verb} then move the live tables to schema {}, put the rebuilt ones in {}, \
             and set group {:?} to resume at TO.",
            plan.retired, args.live_schema, args.group
        );
    }
}

/// Prints the comparison and what was done.
pub fn print_report(args: &RebuildArgs, plan: &RebuildPlan, report: &RebuildReport) {
    println!(
        "{:<10} {:>10} {:<34} {:>10} {:<34}",
        "MODEL", "EVENTS", "EVENTS MD5", "HISTORY", "HISTORY MD5"
    );
    let row = |name: &str, sum: &Checksum| {
        println!(
            "{name:<10} {:>10} {:<34} {:>10} {:<34}",
            sum.events, sum.events_md5, sum.history, sum.history_md5
        );
    };
    row("rebuilt", &report.rebuilt);
    match (&report.live, &report.difference) {
        (None, _) => println!(
            "No live model in schema {} to compare with.",
            args.live_schema
        ),
        (Some(live), None) => {
            row("live", live);
            println!("MATCH: the live model holds exactly what the log says, in every column.");
        }
        (Some(live), Some(difference)) => {
            row("live", live);
            println!(
                "DIFFER: {} event(s), e.g. {}.",
                difference.events,
                difference.sample_ids.join(", ")
            );
            if report.live_ahead > 0 {
                println!(
                    "The live projector had processed {} records past the rebuild's end; \
                     compare again when traffic is quiet.",
                    report.live_ahead
                );
            }
        }
    }
    match &report.retired {
        Some(retired) => println!(
            "Promoted: schema {} now serves the rebuilt model; group {:?} resumes after it. \
             The old tables are in schema {retired}; drop them with `DROP SCHEMA {retired} CASCADE`.",
            args.live_schema, args.group
        ),
        None => println!(
            "The rebuilt model stays in schema {}; drop it with `DROP SCHEMA {} CASCADE`, or run again with --promote.",
            plan.schema, plan.schema
        ),
    }
}
