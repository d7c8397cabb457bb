//! `orchctl dlq redrive`: re-publishes dead-lettered events to the raw topic
//! with the next replay generation, for another round of delivery once the
//! cause is fixed. The dead letters stay where they are: the DLQ is a record.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::Context;
use orch_contracts::{DeadLetterRecord, RawEventRecord};
use orch_kafka::{BaseConsumer, FutureProducer};
use rdkafka::consumer::Consumer;
use rdkafka::producer::{FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use time::OffsetDateTime;

use crate::offsets::{self, KAFKA_TIMEOUT};
use crate::parse_time;

/// Arguments of `orchctl dlq redrive`.
#[derive(Debug, Clone, clap::Args)]
pub struct RedriveArgs {
    /// Only these event ids (repeat the flag for more).
    #[arg(long = "id")]
    pub ids: Vec<String>,
    /// Only events dead-lettered at or after this RFC 3339 time.
    #[arg(long, value_parser = parse_time)]
    pub since: Option<OffsetDateTime>,
    /// Only events dead-lettered before this RFC 3339 time.
    #[arg(long, value_parser = parse_time)]
    pub until: Option<OffsetDateTime>,
    /// Print what would be re-published and publish nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub kafka: orch_kafka::KafkaConfig,
}

/// What a redrive did or, with `--dry-run`, would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedriveReport {
    /// Dead letters read from the topic.
    pub read: usize,
    /// Records in the DLQ that are not dead letters (unreadable raw copies).
    pub unreadable: usize,
    /// (event id, new generation) re-published, or to be.
    pub redriven: Vec<(String, u32)>,
    pub applied: bool,
}

impl RedriveArgs {
    fn wants(&self, letter: &DeadLetterRecord) -> bool {
        (self.ids.is_empty() || self.ids.contains(&letter.id))
            && self
                .since
                .is_none_or(|since| letter.dead_lettered_at >= since)
            && self
                .until
                .is_none_or(|until| letter.dead_lettered_at < until)
    }
}

/// Reads the DLQ up to its current end and re-publishes the chosen events.
pub async fn redrive(args: &RedriveArgs) -> anyhow::Result<RedriveReport> {
    let topics = args.kafka.topics();
    let (letters, read, unreadable) = {
        let args = args.clone();
        tokio::task::spawn_blocking(move || read_dead_letters(&args)).await??
    };
    let mut report = RedriveReport {
        read,
        unreadable,
        ..RedriveReport::default()
    };
    let chosen: Vec<RawEventRecord> = letters
        .into_values()
        .filter(|letter| args.wants(letter))
        .map(|letter| RawEventRecord {
            generation: letter.event.generation + 1,
            ..letter.event
        })
        .collect();
    report.redriven = chosen
        .iter()
        .map(|e| (e.id.clone(), e.generation))
        .collect();
    if args.dry_run || chosen.is_empty() {
        return Ok(report);
    }
    let producer: FutureProducer = args
        .kafka
        .client_config("orchctl")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create_with_context(args.kafka.auth_context())
        .context("Could not create a Kafka producer")?;
    for (done, event) in chosen.iter().enumerate() {
        let payload = orch_contracts::to_json(event);
        // A redrive is a new attempt at the event: its own trace, while the
        // record keeps the trace id the event was accepted with.
        let span = tracing::info_span!("redrive_event", event_id = %event.id);
        let headers = orch_kafka::RecordContext {
            trace: orch_telemetry::trace_headers(&span),
            correlation_id: event.correlation_id.clone(),
        }
        .headers();
        producer
            .send(
                FutureRecord::to(&topics.raw)
                    .key(&event.id)
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

/// The newest dead letter of each event id, read from the start of the DLQ
/// to the end it had when the read began; plus counts read and unreadable.
fn read_dead_letters(
    args: &RedriveArgs,
) -> anyhow::Result<(BTreeMap<String, DeadLetterRecord>, usize, usize)> {
    let topic = args.kafka.topics().dlq;
    let consumer: BaseConsumer = offsets::group_handle(&args.kafka, "orchctl-redrive")?;
    let partitions = offsets::partition_offsets(&consumer, &topic)?;
    let mut assignment = TopicPartitionList::new();
    let mut pending = BTreeSet::new();
    for p in &partitions {
        if p.high > p.low {
            assignment.add_partition_offset(&topic, p.partition, Offset::Offset(p.low))?;
            pending.insert(p.partition);
        }
    }
    consumer.assign(&assignment)?;
    let ends: BTreeMap<i32, i64> = partitions.iter().map(|p| (p.partition, p.high)).collect();
    let (mut letters, mut read, mut unreadable) = (BTreeMap::new(), 0, 0);
    while !pending.is_empty() {
        let Some(message) = consumer.poll(KAFKA_TIMEOUT) else {
            anyhow::bail!("The DLQ stopped answering before its end was reached");
        };
        let message = message?;
        let partition = message.partition();
        if message.offset() + 1 >= ends[&partition] {
            pending.remove(&partition);
        }
        if message.offset() >= ends[&partition] {
            continue;
        }
        match serde_json::from_slice::<DeadLetterRecord>(message.payload().unwrap_or_default()) {
            Ok(letter) => {
                read += 1;
                let newer = letters
                    .get(&letter.id)
                    .is_none_or(|held: &DeadLetterRecord| {
                        held.event.generation <= letter.event.generation
                    });
                if newer {
                    letters.insert(letter.id.clone(), letter);
                }
            }
            Err(_) => unreadable += 1,
        }
        if read % 10_000 == 0 && read > 0 {
            eprintln!("read {read} dead letters");
        }
    }
    Ok((letters, read, unreadable))
}

/// Prints the report.
pub fn print(report: &RedriveReport) {
    println!(
        "Read {} dead letter(s){}.",
        report.read,
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
    for (id, generation) in &report.redriven {
        println!("  {id}  generation {generation}");
    }
}
