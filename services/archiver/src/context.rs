//! The consumer's rebalance hooks. On revoke they fence the revoked
//! partitions (see `ownership`) and wait, bounded, for a write under way, so
//! the new owner never races an old write of the same object. Nothing is
//! committed here: offsets are committed by the writer, after the object
//! and its manifest entry are stored.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};

use crate::ownership::Ownership;

/// The archiver's consumer.
pub(crate) type ArchiveConsumer = rdkafka::consumer::StreamConsumer<ArchiveContext>;

/// State the hooks share with the archive loop.
pub(crate) struct ArchiveContext {
    pub(crate) ownership: Arc<Ownership>,
    pub(crate) revoke_wait: Duration,
    pub(crate) tokens: orch_kafka::TokenSource,
}

impl ClientContext for ArchiveContext {
    orch_kafka::answer_token_requests!(tokens);

    fn stats(&self, statistics: rdkafka::statistics::Statistics) {
        orch_kafka::record_consumer_lag("archiver", &statistics);
    }
}

impl ConsumerContext for ArchiveContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(partitions) = rebalance {
            let revoked: Vec<i32> = partitions
                .elements()
                .iter()
                .map(|e| e.partition())
                .collect();
            let wait = || self.ownership.revoke(&revoked, self.revoke_wait);
            // The hook runs inside `recv()` on a runtime worker; the writes it
            // waits for run on the others.
            let still_busy = match tokio::runtime::Handle::try_current() {
                Ok(handle)
                    if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread =>
                {
                    tokio::task::block_in_place(wait)
                }
                _ => wait(),
            };
            if still_busy.is_empty() {
                tracing::info!(partitions = revoked.len(), "Partitions revoked.");
            } else {
                tracing::warn!(
                    ?still_busy,
                    "Partitions revoked while a write to the store was still under way; \
                     if it lands after the new owner's, some records may be archived twice."
                );
            }
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(partitions) = rebalance {
            self.ownership
                .assign(partitions.elements().iter().map(|e| e.partition()));
            // A partition paused (memory full) before it moved must not stay
            // paused when it comes back: its buffers are empty.
            if let Err(error) = consumer.resume(partitions) {
                tracing::warn!(error = %orch_telemetry::error_chain(&error), "Could not resume assigned partitions.");
            }
            tracing::info!(partitions = partitions.count(), "Partitions assigned.");
        }
    }
}
