//! `orchctl delivery pause | resume | rate | status`: run-time delivery
//! controls for the whole dispatcher group. A control is a record on the
//! compacted `events.control` topic; every replica applies it within a
//! second and reads the latest of each at start, so it outlives restarts.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use orch_contracts::{
    ControlName, ControlRecord, DeliveryControl, MAX_CONTROL_RATE, MAX_CONTROL_TEXT,
};
use orch_kafka::{BaseConsumer, FutureProducer, KafkaConfig};
use rdkafka::consumer::Consumer;
use rdkafka::producer::{FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde::Serialize;

use crate::offsets::{self, KAFKA_TIMEOUT};
use crate::output::OutputArg;

/// Who is acting, and why: recorded with the control.
#[derive(Debug, Clone, clap::Args)]
pub struct Reasoned {
    /// Why (recorded, shown in `status`, logs and metrics), e.g. "target maintenance until 14:00 UTC".
    #[arg(long, value_parser = parse_text)]
    pub reason: String,
    /// Who sets it; defaults to $ORCHCTL_OPERATOR, else $USER.
    #[arg(long, env = "ORCHCTL_OPERATOR", value_parser = parse_text)]
    pub by: Option<String>,
    /// Print the record that would be written, and the state in force, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub kafka: KafkaConfig,
}

/// A group rate: events per second, or `configured`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateArg(pub Option<u32>);

/// Parses `rate`'s argument.
pub fn parse_rate(value: &str) -> Result<RateArg, String> {
    if value == "configured" {
        return Ok(RateArg(None));
    }
    match value.parse::<u32>() {
        Ok(rate) if (1..=MAX_CONTROL_RATE).contains(&rate) => Ok(RateArg(Some(rate))),
        _ => Err(format!(
            "{value:?} is not a rate: give events per second for the whole group (1 to {MAX_CONTROL_RATE}), or `configured` to go back to DISPATCHER_RATE_LIMIT_PER_SEC"
        )),
    }
}

fn parse_text(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > MAX_CONTROL_TEXT {
        return Err(format!("must be at most {MAX_CONTROL_TEXT} characters"));
    }
    if value.chars().any(char::is_control) {
        return Err("must not hold control characters".into());
    }
    Ok(value.to_owned())
}

/// Arguments of `orchctl delivery status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// A dispatcher replica's ops address (repeat for each), e.g.
    /// http://127.0.0.1:8081; its /status is shown beside the controls.
    #[arg(long = "dispatcher")]
    pub dispatchers: Vec<String>,
    #[command(flatten)]
    pub output: OutputArg,
    #[command(flatten)]
    pub kafka: KafkaConfig,
}

/// The controls in force: the latest record of each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Controls {
    /// The latest pause or resume.
    pub pause: Option<ControlRecord>,
    /// The latest rate.
    pub rate: Option<ControlRecord>,
}

impl Controls {
    /// Whether delivery is paused.
    pub fn paused(&self) -> bool {
        matches!(
            self.pause.as_ref().map(|r| r.control),
            Some(DeliveryControl::Pause { paused: true })
        )
    }

    /// The group rate a control sets, if any.
    pub fn rate(&self) -> Option<u32> {
        match self.rate.as_ref().map(|r| r.control) {
            Some(DeliveryControl::Rate { events_per_second }) => events_per_second,
            _ => None,
        }
    }
}

/// What `set` did or, with `--dry-run`, would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetReport {
    /// The controls before.
    pub before: Controls,
    /// The record written (or to be).
    pub record: ControlRecord,
    /// Whether it was written.
    pub applied: bool,
}

/// Writes `control` with its reason to the control topic.
pub async fn set(args: &Reasoned, control: DeliveryControl) -> anyhow::Result<SetReport> {
    set_until(args, control, None).await
}

/// Writes `control` with its reason and, for a pause, when it is meant to end.
pub async fn set_until(
    args: &Reasoned,
    control: DeliveryControl,
    until: Option<time::OffsetDateTime>,
) -> anyhow::Result<SetReport> {
    let by = args
        .by
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .and_then(|by| parse_text(&by).ok())
        .context("Say who you are with --by (or ORCHCTL_OPERATOR): every control records it")?;
    orch_kafka::ensure_topics(&args.kafka)
        .await
        .context("Could not prepare the topics")?;
    let before = {
        let kafka = args.kafka.clone();
        tokio::task::spawn_blocking(move || read(&kafka)).await??
    };
    let record = ControlRecord::new(control, args.reason.clone(), by).until(until);
    if args.dry_run {
        return Ok(SetReport {
            before,
            record,
            applied: false,
        });
    }
    let producer: FutureProducer = args
        .kafka
        .durable_producer_config("orchctl", 5)
        .create_with_context(args.kafka.auth_context())
        .context("Could not create a Kafka producer")?;
    let topic = args.kafka.topics().control;
    let payload = orch_contracts::to_json(&record);
    producer
        .send(
            FutureRecord::to(&topic)
                .key(control.name().as_str())
                .payload(&payload),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(error, _)| error)
        .with_context(|| format!("Could not write the control to {topic}"))?;
    producer.flush(KAFKA_TIMEOUT)?;
    Ok(SetReport {
        before,
        record,
        applied: true,
    })
}

/// Reads the control topic to its end. Blocking.
pub fn read(kafka: &KafkaConfig) -> anyhow::Result<Controls> {
    let topic = kafka.topics().control;
    let consumer: BaseConsumer = offsets::group_handle(kafka, "orchctl-delivery")?;
    let partitions = offsets::partition_offsets(&consumer, &topic)?;
    let mut assignment = TopicPartitionList::new();
    let mut ends = BTreeMap::new();
    for p in partitions.iter().filter(|p| p.high > p.low) {
        assignment.add_partition_offset(&topic, p.partition, Offset::Offset(p.low))?;
        ends.insert(p.partition, p.high);
    }
    consumer.assign(&assignment)?;
    let mut controls = Controls::default();
    while !ends.is_empty() {
        let Some(message) = consumer.poll(KAFKA_TIMEOUT) else {
            anyhow::bail!("The control topic {topic} stopped answering before its end");
        };
        let message = message?;
        if message.offset() + 1 >= ends.get(&message.partition()).copied().unwrap_or(0) {
            ends.remove(&message.partition());
        }
        let key = message.key().unwrap_or_default();
        let name = ControlName::parse(&String::from_utf8_lossy(key));
        let slot = match name {
            Some(ControlName::Pause) => &mut controls.pause,
            Some(ControlName::Rate) => &mut controls.rate,
            None => continue,
        };
        *slot = match message.payload() {
            None => None,
            // A record the replicas refuse is skipped here too.
            Some(payload) => match ControlRecord::read(key, payload) {
                Ok(record) => Some(record),
                Err(_) => continue,
            },
        };
    }
    Ok(controls)
}

/// `orchctl delivery pause | resume | rate`: writes the control (or, dry,
/// shows it) and prints what was done.
pub async fn run_set(
    args: &Reasoned,
    control: DeliveryControl,
    until: Option<time::OffsetDateTime>,
    output: OutputArg,
) -> anyhow::Result<ExitCode> {
    let report = set_until(args, control, until).await?;
    output.print(&report, print_set)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints what `set` did.
pub fn print_set(report: &SetReport) {
    let verb = if report.applied {
        "Wrote"
    } else {
        "Would write (dry run)"
    };
    println!(
        "{verb}: {} (reason: {}; by {}).",
        describe(report.record.control),
        report.record.reason,
        report.record.by
    );
    println!("Before: {}.", summary(&report.before));
    if report.applied {
        println!(
            "Every dispatcher replica applies it within a second; check with `orchctl delivery status --dispatcher <ops address>`."
        );
    }
}

fn describe(control: DeliveryControl) -> String {
    match control {
        DeliveryControl::Pause { paused: true } => "pause delivery".into(),
        DeliveryControl::Pause { paused: false } => "resume delivery".into(),
        DeliveryControl::Rate {
            events_per_second: Some(rate),
        } => format!("set the group rate to {rate} events/s"),
        DeliveryControl::Rate {
            events_per_second: None,
        } => "set the group rate back to the configured one".into(),
    }
}

fn summary(controls: &Controls) -> String {
    let pause = match &controls.pause {
        Some(record) if controls.paused() => format!(
            "paused since {} by {} ({})",
            record.at, record.by, record.reason
        ),
        _ => "running".into(),
    };
    let rate = match (controls.rate(), &controls.rate) {
        (Some(rate), Some(record)) => format!(
            "group rate {rate}/s set {} by {} ({})",
            record.at, record.by, record.reason
        ),
        _ => "the configured group rate".into(),
    };
    format!("{pause}; {rate}")
}

/// `orchctl delivery status`: the controls and each named replica's state.
pub async fn status(args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let controls = {
        let kafka = args.kafka.clone();
        tokio::task::spawn_blocking(move || read(&kafka)).await??
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let mut replicas = BTreeMap::new();
    for address in &args.dispatchers {
        let url = format!("{}/status", address.trim_end_matches('/'));
        let answer = match http.get(&url).send().await {
            Ok(response) if response.status().is_success() => response
                .json::<serde_json::Value>()
                .await
                .unwrap_or_else(|error| serde_json::json!({ "error": error.to_string() })),
            Ok(response) => serde_json::json!({ "error": format!("HTTP {}", response.status()) }),
            Err(error) => serde_json::json!({ "error": error.to_string() }),
        };
        replicas.insert(address.clone(), answer);
    }
    if args.output.json() {
        crate::output::print_json(
            &serde_json::json!({ "controls": controls, "replicas": replicas }),
        )?;
    } else {
        println!("Controls: {}.", summary(&controls));
        for (address, view) in &replicas {
            print_replica(address, view);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_replica(address: &str, view: &serde_json::Value) {
    if let Some(error) = view.get("error") {
        println!("  {address}: unreachable ({error})");
        return;
    }
    let text = |pointer: &str| {
        view.pointer(pointer)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_else(|| "?".into())
    };
    println!(
        "  {address}: breaker {}{}, {}, rate {}/s of {}/s for the group (share {}/s), partitions {}, in flight {}",
        text("/breaker/state"),
        view.pointer("/breaker/fault")
            .and_then(|f| f.as_str())
            .map(|fault| format!(" ({fault}: {})", text("/breaker/check")))
            .unwrap_or_default(),
        if view["paused"] == true {
            "paused"
        } else {
            "running"
        },
        text("/rate/current_per_second"),
        text("/rate/group_per_second"),
        text("/rate/share_per_second"),
        text("/rate/partitions_assigned"),
        text("/in_flight"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_numbers_in_range_or_configured() {
        assert_eq!(parse_rate("200"), Ok(RateArg(Some(200))));
        assert_eq!(parse_rate("configured"), Ok(RateArg(None)));
        for bad in ["0", "-1", "1.5", "fast", "1000001", ""] {
            let error = parse_rate(bad).unwrap_err();
            assert!(error.contains("events per second"), "{bad}: {error}");
        }
    }

    #[test]
    fn reasons_are_bounded_plain_text() {
        assert_eq!(parse_text("  maintenance "), Ok("maintenance".into()));
        assert!(parse_text("").is_err());
        assert!(parse_text("a\u{7}b").is_err());
        assert!(parse_text(&"x".repeat(MAX_CONTROL_TEXT + 1)).is_err());
    }
}
