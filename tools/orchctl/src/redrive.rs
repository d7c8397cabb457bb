//! `orchctl dlq redrive`: re-publishes dead-lettered events to the raw topic
//! with the next replay generation, for another round of delivery once the
//! cause is fixed. The dead letters stay where they are: the DLQ is a record.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use orch_contracts::{EventId, RawEventRecord};
use orch_kafka::FutureProducer;
use rdkafka::producer::{FutureRecord, Producer};

use crate::dead_letters::{self, ArchiveArgs, LetterFilter, Source};
use crate::offsets::KAFKA_TIMEOUT;
use crate::output::OutputArg;

/// Arguments of `orchctl dlq redrive`.
#[derive(Debug, Clone, clap::Args)]
pub struct RedriveArgs {
    #[command(flatten)]
    pub filter: LetterFilter,
    /// Print what would be re-published and publish nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub archive: ArchiveArgs,
    #[command(flatten)]
    pub kafka: orch_kafka::KafkaConfig,
    #[command(flatten)]
    pub output: OutputArg,
}

/// What a redrive did or, with `--dry-run`, would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RedriveReport {
    /// Wanted dead letters read from the topic.
    pub from_topic: usize,
    /// Wanted dead letters read from the archive (gone from the topic).
    pub from_archive: usize,
    /// Whether the archive was read at all.
    pub archive_read: bool,
    /// Records that are not dead letters (unreadable raw copies).
    pub unreadable: usize,
    /// (event id, new generation, where its letter was) re-published, or to be.
    pub redriven: Vec<(EventId, u32, Source)>,
    pub applied: bool,
}

/// `orchctl dlq redrive`: re-publishes (or plans it) and prints the report.
pub async fn run(args: &RedriveArgs) -> anyhow::Result<ExitCode> {
    let report = redrive(args).await?;
    args.output.print(&report, print)?;
    Ok(ExitCode::SUCCESS)
}

/// Reads the DLQ (and the archive) and re-publishes the newest letter of
/// each chosen event with the next generation.
pub async fn redrive(args: &RedriveArgs) -> anyhow::Result<RedriveReport> {
    let topics = args.kafka.topics();
    let letters = dead_letters::read(&args.kafka, &args.archive, &args.filter).await?;
    let mut report = RedriveReport {
        from_topic: letters.count(Source::Topic),
        from_archive: letters.count(Source::Archive),
        archive_read: letters.archive_read,
        unreadable: letters.unreadable,
        ..RedriveReport::default()
    };
    // The newest generation of each id: an event dead-lettered again after
    // a redrive goes round once more, from its latest letter.
    let mut newest: BTreeMap<EventId, dead_letters::Found> = BTreeMap::new();
    for found in letters.found {
        let newer = newest
            .get(&found.letter.id)
            .is_none_or(|held| held.letter.event.generation <= found.letter.event.generation);
        if newer {
            newest.insert(found.letter.id.clone(), found);
        }
    }
    let chosen: Vec<(RawEventRecord, Source)> = newest
        .into_values()
        .map(|found| {
            let event = found.letter.event;
            (
                RawEventRecord {
                    generation: event.generation + 1,
                    ..event
                },
                found.source,
            )
        })
        .collect();
    report.redriven = chosen
        .iter()
        .map(|(e, source)| (e.id.clone(), e.generation, *source))
        .collect();
    if args.dry_run || chosen.is_empty() {
        return Ok(report);
    }
    let producer: FutureProducer = args
        .kafka
        .durable_producer_config("orchctl", 5)
        .create_with_context(args.kafka.auth_context())
        .context("Could not create a Kafka producer")?;
    for (done, (event, _)) in chosen.iter().enumerate() {
        let payload = orch_contracts::to_json(event);
        // A redrive is a new attempt at the event: its own trace, while the
        // record keeps the trace id the event was accepted with.
        let span = tracing::info_span!("redrive_event", event_id = %event.id);
        let headers = orch_kafka::record_headers(&orch_telemetry::EventContext::for_span(
            &span,
            event.correlation_id.clone(),
        ));
        producer
            .send(
                FutureRecord::to(&topics.raw)
                    .key(event.id.as_str())
                    .payload(&payload)
                    .headers(headers),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(error, _)| error)
            .with_context(|| format!("Could not re-publish event {:?}", event.id))?;
        if (done + 1) % 1_000 == 0 {
            eprintln!("re-published {} of {}", done + 1, chosen.len());
        }
    }
    producer.flush(KAFKA_TIMEOUT)?;
    report.applied = true;
    Ok(report)
}

/// Prints the report.
pub fn print(report: &RedriveReport) {
    let archive = if report.archive_read {
        format!(
            ", {} more from the archive (gone from the topic)",
            report.from_archive
        )
    } else {
        " (the archive was not read: OBJECT_STORE_BUCKET is not set)".into()
    };
    println!(
        "Read {} wanted dead letter(s) from the topic{archive}{}.",
        report.from_topic,
        if report.unreadable > 0 {
            format!(
                " and {} unreadable raw record(s), which cannot be redriven (inspect them with kafka-console-consumer)",
                report.unreadable
            )
        } else {
            String::new()
        }
    );
    let verb = if report.applied {
        "Re-published"
    } else {
        "Would re-publish (dry run)"
    };
    println!("{verb} {} event(s):", report.redriven.len());
    for (id, generation, source) in &report.redriven {
        println!("  {id}  generation {generation}  (from the {source})");
    }
}
