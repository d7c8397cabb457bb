//! This replica's share of the group's rate limit: the group rate × the
//! partitions it holds ÷ the partitions of the topic. Replicas share one
//! figure without talking to each other.
//!
//! The group rate is the configured one unless a delivery control sets
//! another. The partition count is learnt at start and refreshed in the
//! background, never fetched inside a rebalance callback (that would block
//! the poll thread). Until it is known the share is zero: a replica that
//! guessed "all of it" could send the group's whole limit from every replica.

use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

use orch_contracts::ControlRecord;
use rdkafka::consumer::Consumer;
use tokio_util::sync::CancellationToken;

use crate::pacer::Pacer;

/// How often the partition count is re-read once known ...
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// ... and while it is not.
const RETRY_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
struct State {
    configured: u32,
    control: Option<(u32, ControlRecord)>,
    assigned: Vec<i32>,
    total: Option<usize>,
}

impl State {
    fn group_rate(&self) -> u32 {
        self.control
            .as_ref()
            .map_or(self.configured, |(rate, _)| *rate)
    }

    fn share(&self) -> f64 {
        match self.total {
            Some(total) if total > 0 => {
                f64::from(self.group_rate()) * self.assigned.len().min(total) as f64 / total as f64
            }
            _ => 0.0,
        }
    }
}

/// What `/status` shows of the rate.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct RateView {
    pub(crate) configured_per_second: u32,
    pub(crate) group_per_second: u32,
    pub(crate) set_by_control: Option<ControlRecord>,
    pub(crate) share_per_second: f64,
    /// The rate in force here: the share, lowered by AIMD after 429s.
    pub(crate) current_per_second: f64,
    pub(crate) partitions_assigned: Vec<i32>,
    pub(crate) partitions_total: Option<usize>,
}

/// The share, kept in step with the pacer.
#[derive(Debug)]
pub(crate) struct RateShare {
    state: Mutex<State>,
    pacer: Arc<Pacer>,
}

impl RateShare {
    pub(crate) fn new(configured: u32, pacer: Arc<Pacer>) -> Self {
        Self {
            state: Mutex::new(State {
                configured,
                control: None,
                assigned: Vec::new(),
                total: None,
            }),
            pacer,
        }
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        let mut state = self.state.lock();
        let before = state.share();
        change(&mut state);
        let share = state.share();
        metrics::gauge!("orch_dispatcher_rate_group_per_second").set(f64::from(state.group_rate()));
        if share != before {
            self.pacer.set_share(share);
            tracing::info!(
                group_rate = state.group_rate(),
                assigned = state.assigned.len(),
                total = ?state.total,
                share,
                "Rate share set."
            );
        }
    }

    /// The partitions this replica holds now.
    pub(crate) fn set_assigned(&self, mut partitions: Vec<i32>) {
        partitions.sort_unstable();
        self.update(|state| state.assigned = partitions);
    }

    /// The topic's partition count, as last read.
    pub(crate) fn set_total(&self, total: usize) {
        self.update(|state| state.total = Some(total));
    }

    /// A rate control: `Some` sets the group rate, `None` goes back to the configured one.
    pub(crate) fn set_control(&self, control: Option<(u32, ControlRecord)>) {
        self.update(|state| state.control = control);
    }

    pub(crate) fn view(&self) -> RateView {
        let state = self.state.lock().clone();
        RateView {
            configured_per_second: state.configured,
            group_per_second: state.group_rate(),
            set_by_control: state.control.as_ref().map(|(_, record)| record.clone()),
            share_per_second: state.share(),
            current_per_second: self.pacer.current(),
            partitions_assigned: state.assigned,
            partitions_total: state.total,
        }
    }
}

/// Reads the topic's partition count now and then until `shutdown`, on a
/// client of its own, off the poll thread.
pub(crate) async fn refresh_partition_count(
    metadata: orch_kafka::BaseConsumer,
    topic: String,
    share: Arc<RateShare>,
    shutdown: CancellationToken,
) {
    let metadata = Arc::new(metadata);
    loop {
        let (client, name) = (metadata.clone(), topic.clone());
        let counted = tokio::task::spawn_blocking(move || partition_count(&client, &name))
            .await
            .ok()
            .flatten();
        if let Some(total) = counted {
            share.set_total(total);
        }
        let wait = if counted.is_some() {
            REFRESH_EVERY
        } else {
            RETRY_EVERY
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// The partition count of `topic`, if the brokers answer.
pub(crate) fn partition_count(client: &orch_kafka::BaseConsumer, topic: &str) -> Option<usize> {
    // Polling serves token requests (MSK IAM); nothing is assigned, so it
    // takes no record.
    let _ = client.poll(Duration::ZERO);
    let metadata = client
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .map_err(|error| tracing::warn!(error = %orch_telemetry::error_chain(&error), "Could not read the topic's partition count."))
        .ok()?;
    let count = metadata.topics().first()?.partitions().len();
    (count > 0).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(rate: u32) -> Option<(u32, ControlRecord)> {
        let record = ControlRecord::new(
            orch_contracts::DeliveryControl::Rate {
                events_per_second: Some(rate),
            },
            "asked".into(),
            "ops".into(),
        );
        Some((rate, record))
    }

    #[tokio::test]
    async fn the_share_follows_partitions_and_controls_and_is_zero_while_the_total_is_unknown() {
        let share = RateShare::new(600, Arc::new(Pacer::new(0.0)));
        share.set_assigned(vec![0, 1, 2]);
        assert_eq!(share.view().share_per_second, 0.0, "total unknown: nothing");
        share.set_total(6);
        assert_eq!(share.view().share_per_second, 300.0);
        share.set_control(control(200));
        assert_eq!(share.view().share_per_second, 100.0);
        assert_eq!(share.view().current_per_second, 100.0);
        share.set_control(None);
        share.set_assigned(vec![4]);
        assert_eq!(share.view().share_per_second, 100.0);
    }
}
