//! The consumer's rebalance hooks. They run on the poll loop, inside `recv()`,
//! so they must be quick and never wait for delivery work.
//!
//! On revoke: abandon the revoked partitions' in-flight events (their offsets
//! were never stored, so the new owner redelivers them; the target's
//! idempotency absorbs a delivery that was already under way) and commit what
//! is stored, which is only ever what is finished. Only the revoked
//! partitions are touched.
//!
//! After any change: take the new share of the group's rate limit, limit ×
//! partitions held / partitions of the topic. So replicas share one figure
//! without talking to each other. Rebalancing is cooperative, so only the
//! partitions that move are touched.

use std::sync::Arc;

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};

use crate::share::RateShare;
use crate::tracker::SharedTracker;

/// State the hooks share with the poll loop.
pub(crate) struct DispatchContext {
    pub(crate) tracker: Arc<SharedTracker>,
    pub(crate) share: Arc<RateShare>,
    pub(crate) topic: String,
    pub(crate) tokens: orch_kafka::TokenSource,
}

impl ClientContext for DispatchContext {
    orch_kafka::answer_token_requests!(tokens);

    fn stats(&self, statistics: rdkafka::statistics::Statistics) {
        orch_kafka::record_consumer_lag("dispatcher", &statistics);
    }
}

impl ConsumerContext for DispatchContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(partitions) = rebalance {
            let abandoned = self
                .tracker
                .revoke(partitions.elements().iter().map(|e| e.partition()));
            if let Err(error) = orch_kafka::commit_stored(consumer) {
                tracing::warn!(
                    error = %orch_telemetry::error_chain(&error),
                    "Commit on revoke failed; the new owner may redeliver a few events."
                );
            }
            tracing::info!(
                partitions = partitions.count(),
                abandoned,
                "Partitions revoked."
            );
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(partitions) = rebalance {
            self.tracker
                .assign(partitions.elements().iter().map(|e| e.partition()));
            // A partition paused (window full) before a rebalance must not stay
            // paused when it comes back: its new window is empty.
            if let Err(error) = consumer.resume(partitions) {
                tracing::warn!(error = %orch_telemetry::error_chain(&error), "Could not resume assigned partitions.");
            }
        }
        // Assignments are incremental (cooperative): the share follows what
        // this replica holds after the change, whichever way it went. The
        // topic's partition count comes from the background refresh: a
        // metadata call here would block the poll thread.
        let assigned: Vec<i32> = consumer
            .assignment()
            .map(|list| list.elements().iter().map(|e| e.partition()).collect())
            .unwrap_or_default();
        tracing::info!(assigned = assigned.len(), "Partitions assigned.");
        self.share.set_assigned(assigned);
    }
}
