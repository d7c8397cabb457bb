//! "Never backwards", checked on every status record rather than sampled:
//! after the drain the whole status topic is read, and each event's row must
//! stand at or past every record about it, with each record in its stored
//! history. The same records attribute duplicate deliveries to the fault
//! that last began before them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use orch_contracts::{Status, StatusRecord};
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::inject::Done;
use crate::readmodel::{Order, Row};
use crate::sampler::Backwards;

/// What the status topic says against the read model.
#[derive(Debug, Default, Serialize)]
pub(crate) struct LogCheck {
    /// Status records read and checked.
    pub(crate) records: usize,
    /// Rows behind a record about them (or missing though a record exists).
    pub(crate) behind: Vec<Backwards>,
    /// Records whose step is not in the event's stored history.
    pub(crate) missing_history: Vec<String>,
    /// Repeated `delivered` records (same event and generation), by the kind
    /// of the fault that last began before each.
    pub(crate) duplicates_by_fault: BTreeMap<String, u64>,
}

/// Reads every record of the status topic; an error (not a panic) when it
/// cannot, so the run's report is still written.
pub(crate) async fn read(
    bootstrap: &str,
    topic: &str,
) -> Result<Vec<StatusRecord>, orch_testkit::ReadTopicError> {
    let size = usize::try_from(orch_testkit::topic_size(bootstrap, topic).await).unwrap_or(0);
    let messages =
        orch_testkit::try_read_topic(bootstrap, topic, Duration::from_secs(120), |read| {
            read.len() >= size
        })
        .await?;
    Ok(messages
        .iter()
        .filter_map(|message| {
            use rdkafka::Message as _;
            serde_json::from_slice(message.payload()?).ok()
        })
        .collect())
}

/// Every (event, generation, status, attempt) in `event_history`.
pub(crate) async fn history(pool: &PgPool) -> sqlx::Result<HashSet<(String, i32, String, i32)>> {
    let rows: Vec<(String, i32, String, i32)> =
        sqlx::query_as("SELECT event_id, generation, status, attempt FROM event_history")
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Checks every record against the rows and the history; `began` is the
/// run's start on the wall clock, for attributing duplicates to faults.
pub(crate) fn check(
    records: &[StatusRecord],
    rows: &HashMap<String, Row>,
    history: &HashSet<(String, i32, String, i32)>,
    faults: &[Done],
    began: OffsetDateTime,
) -> LogCheck {
    let mut check = LogCheck {
        records: records.len(),
        ..LogCheck::default()
    };
    let to_i32 = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    let mut deliveries: HashMap<(&str, u32), Vec<OffsetDateTime>> = HashMap::new();
    for record in records {
        let order: Order = (
            to_i32(record.generation),
            record.status.rank(),
            to_i32(record.attempt),
        );
        match rows.get(record.id.as_str()) {
            Some(row) if row.order() >= order => {}
            row => check.behind.push(Backwards {
                id: record.id.as_str().to_owned(),
                from: order,
                to: row.map_or((-1, -1, -1), Row::order),
            }),
        }
        let step = (
            record.id.as_str().to_owned(),
            order.0,
            record.status.as_str().to_owned(),
            order.2,
        );
        if !history.contains(&step) {
            check.missing_history.push(format!(
                "{} {:?} attempt {}",
                record.id, record.status, record.attempt
            ));
        }
        if record.status == Status::Delivered {
            deliveries
                .entry((record.id.as_str(), record.generation))
                .or_default()
                .push(record.at);
        }
    }
    for mut times in deliveries.into_values() {
        times.sort();
        for at in times.into_iter().skip(1) {
            let since_start = (at - began).as_seconds_f64();
            let kind = faults
                .iter()
                .filter(|done| done.began_s <= since_start)
                .max_by(|a, b| a.began_s.total_cmp(&b.began_s))
                .map_or_else(|| "before any fault".to_owned(), |done| done.fault.kind());
            *check.duplicates_by_fault.entry(kind).or_default() += 1;
        }
    }
    check
}
