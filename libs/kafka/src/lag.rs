//! Consumer lag per partition, from librdkafka's own statistics: it knows
//! each assigned partition's high watermark and the consumer's position, so
//! no extra requests to the broker are needed.

use rdkafka::statistics::Statistics;

/// How often librdkafka reports statistics to a consumer that exports lag.
pub const STATISTICS_INTERVAL_MS: u32 = 5_000;

/// Reports `orch_consumer_lag_records{consumer, topic, partition}` for every
/// partition this client owns and knows the lag of (librdkafka says -1 for
/// the others). Each report replaces the client's previous one, so a
/// partition revoked in a rebalance stops being reported by its old owner.
pub fn record_consumer_lag(consumer: &'static str, statistics: &Statistics) {
    let mut series = Vec::new();
    for (topic, stats) in &statistics.topics {
        for (partition, partition_stats) in &stats.partitions {
            // Partition -1 is librdkafka's placeholder for unassigned messages.
            if *partition < 0 || partition_stats.consumer_lag < 0 {
                continue;
            }
            series.push((
                vec![
                    ("consumer", consumer.to_owned()),
                    ("topic", topic.clone()),
                    ("partition", partition.to_string()),
                ],
                partition_stats.consumer_lag as f64,
            ));
        }
    }
    // The client's name (`rdkafka#consumer-N`) is unique in the process.
    orch_telemetry::replace_live_gauges(
        "orch_consumer_lag_records",
        "Records a consumer group member has not yet read, per partition it owns.",
        &statistics.name,
        series,
    );
}
