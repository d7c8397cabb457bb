//! Consumer lag per partition, from librdkafka's own statistics: it knows
//! each assigned partition's high watermark and the consumer's position, so
//! no extra requests to the broker are needed.

use rdkafka::ClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::statistics::Statistics;

/// How often librdkafka reports statistics to a consumer that exports lag.
pub const STATISTICS_INTERVAL_MS: u32 = 5_000;

/// Sets `kafka_consumer_lag{consumer, topic, partition}` for every partition
/// whose lag librdkafka knows (it reports -1 for those it does not).
pub fn record_consumer_lag(consumer: &'static str, statistics: &Statistics) {
    for (topic, stats) in &statistics.topics {
        for (partition, partition_stats) in &stats.partitions {
            // Partition -1 is librdkafka's placeholder for unassigned messages.
            if *partition < 0 || partition_stats.consumer_lag < 0 {
                continue;
            }
            metrics::gauge!(
                "kafka_consumer_lag",
                "consumer" => consumer,
                "topic" => topic.clone(),
                "partition" => partition.to_string()
            )
            .set(partition_stats.consumer_lag as f64);
        }
    }
}

/// A consumer context that only exports lag, for consumers that need no
/// other hooks. Create the consumer with `statistics.interval.ms` set.
#[derive(Debug, Clone)]
pub struct LagContext {
    /// The `consumer` label: which service's consumer this is.
    pub consumer: &'static str,
    /// Where the client's MSK IAM tokens come from.
    pub tokens: crate::TokenSource,
}

impl ClientContext for LagContext {
    crate::answer_token_requests!(tokens);

    fn stats(&self, statistics: Statistics) {
        record_consumer_lag(self.consumer, &statistics);
    }
}

impl ConsumerContext for LagContext {}
