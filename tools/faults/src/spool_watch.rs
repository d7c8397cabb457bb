//! Watches the command service's spool through the run (its `/ready`), so
//! each long broker outage can be shown to have sent events through it.

use serde::Serialize;
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

use crate::inject::{Done, spool_state};

/// One look at the spool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Look {
    /// Seconds after the run's start.
    pub(crate) at_s: f64,
    pub(crate) depth: u64,
}

/// Looks every 250 ms until `stop` turns true (a look the service does not
/// answer, while it is down, is skipped).
pub(crate) async fn watch(
    http: reqwest::Client,
    command_url: String,
    start: Instant,
    mut stop: watch::Receiver<bool>,
) -> Vec<Look> {
    let mut looks = Vec::new();
    while !*stop.borrow() {
        if let Some((Some(depth), _)) = spool_state(&http, &command_url).await {
            looks.push(Look {
                at_s: start.elapsed().as_secs_f64(),
                depth,
            });
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = stop.changed() => {}
        }
    }
    looks
}

/// The spool in one long broker outage.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct OutageSpool {
    pub(crate) fault: String,
    pub(crate) began_s: f64,
    /// The deepest the spool was seen during the outage.
    pub(crate) max_depth: u64,
}

/// The deepest look within each long broker outage of `faults`.
pub(crate) fn per_outage(looks: &[Look], faults: &[Done]) -> Vec<OutageSpool> {
    faults
        .iter()
        .filter(|done| done.fault.is_long_broker_outage())
        .map(|done| OutageSpool {
            fault: done.fault.kind(),
            began_s: done.began_s,
            max_depth: looks
                .iter()
                .filter(|look| look.at_s >= done.began_s && look.at_s <= done.ended_s)
                .map(|look| look.depth)
                .max()
                .unwrap_or(0)
                .max(done.seen.spool_held_at_kill.unwrap_or(0)),
        })
        .collect()
}
