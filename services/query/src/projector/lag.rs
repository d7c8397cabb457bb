//! How far the read model is behind the log, in seconds, per partition the
//! projector owns: zero when it has stored everything up to the partition's
//! end, else the time since the newest record it projected there, or since
//! it was last seen caught up, whichever is later. Measured against the
//! log's end (librdkafka's statistics), so it grows while the projector is
//! stalled, where "age of the newest projected record" froze at its last
//! value.

use parking_lot::Mutex;
use std::collections::HashMap;

use orch_kafka::TokenSource;
use rdkafka::ClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::statistics::Statistics;

/// What is known of one partition.
#[derive(Debug, Default, Clone, Copy)]
struct PartitionClock {
    /// Kafka timestamp of the newest record projected and committed, ms.
    projected_ms: Option<i64>,
    /// When the statistics last showed nothing unstored, ms.
    caught_up_ms: Option<i64>,
    /// When this replica first saw the partition, ms: the floor for one it
    /// has neither projected from nor seen caught up.
    seen_ms: i64,
}

/// The projector's lag clock, shared by its writers and its consumer context.
#[derive(Debug, Default)]
pub(crate) struct ProjectionLag {
    partitions: Mutex<HashMap<(String, i32), PartitionClock>>,
}

/// The wall clock in Unix milliseconds, as Kafka timestamps are.
pub(super) fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(now).unwrap_or(i64::MAX)
}

impl ProjectionLag {
    /// A batch with records of `partition` up to `newest_ms` is committed.
    pub(crate) fn projected(&self, topic: &str, partition: i32, newest_ms: i64) {
        let mut partitions = self.partitions.lock();
        let clock = partitions
            .entry((topic.to_owned(), partition))
            .or_insert_with(|| PartitionClock {
                seen_ms: now_ms(),
                ..PartitionClock::default()
            });
        clock.projected_ms = clock.projected_ms.max(Some(newest_ms));
    }

    /// Librdkafka's view of each owned partition's end and stored offset:
    /// sets the gauge to the largest lag, and forgets revoked partitions.
    pub(crate) fn observe(&self, statistics: &Statistics) {
        let now = now_ms();
        let mut partitions = self.partitions.lock();
        let mut owned = Vec::new();
        let mut worst_ms = 0i64;
        for (topic, stats) in &statistics.topics {
            for (partition, stats) in &stats.partitions {
                // -1: not owned, or the end is not known yet.
                if *partition < 0 || stats.consumer_lag_stored < 0 {
                    continue;
                }
                let key = (topic.clone(), *partition);
                let clock = partitions.entry(key.clone()).or_insert(PartitionClock {
                    seen_ms: now,
                    ..PartitionClock::default()
                });
                if stats.consumer_lag_stored == 0 {
                    clock.caught_up_ms = Some(now);
                } else {
                    let since = clock
                        .projected_ms
                        .max(clock.caught_up_ms)
                        .unwrap_or(clock.seen_ms);
                    worst_ms = worst_ms.max(now - since);
                }
                owned.push(key);
            }
        }
        partitions.retain(|key, _| owned.contains(key));
        metrics::gauge!("orch_projection_lag_seconds").set(worst_ms.max(0) as f64 / 1000.0);
    }
}

/// The projector consumer's context: exports consumer lag and feeds the
/// projection lag clock from the same statistics.
pub(crate) struct ProjectorContext {
    pub(crate) lag: std::sync::Arc<ProjectionLag>,
    pub(crate) tokens: TokenSource,
}

impl ClientContext for ProjectorContext {
    orch_kafka::answer_token_requests!(tokens);

    fn stats(&self, statistics: Statistics) {
        orch_kafka::record_consumer_lag("projector", &statistics);
        self.lag.observe(&statistics);
    }
}

impl ConsumerContext for ProjectorContext {}
