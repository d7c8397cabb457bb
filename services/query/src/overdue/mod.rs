//! Overdue events: accepted but not final N minutes later, whatever the
//! reason (a stalled partition, a projector gap, a dispatcher group stopped
//! without a pause). Every replica counts them for the gauges; one at a time
//! (a Postgres advisory lock) sweeps: it publishes each overdue event again
//! once, at its next generation, and marks an event that overruns again
//! `overdue_failed`, never sweeping it twice.
//!
//! Paused is not overdue: each replica follows `events.control` like the
//! dispatchers do, and while delivery is paused, or less than N minutes
//! after it resumed, nothing is overdue.

mod config;
mod internal_events;
mod pause;
mod sweep;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

pub use config::OverdueConfig;
use pause::PauseClock;
use sweep::Sweeper;

/// What the listing needs: where "overdue" begins right now.
#[derive(Debug)]
pub(crate) struct OverdueClock {
    after: Duration,
    pause: Arc<PauseClock>,
}

impl OverdueClock {
    pub(crate) fn new(after: Duration, pause: Arc<PauseClock>) -> Self {
        Self { after, pause }
    }

    /// Events accepted before this and not final are overdue; `None` while
    /// delivery is paused or resumed less than the limit ago: none are.
    pub(crate) fn cutoff(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.pause.cutoff(now, self.after)
    }
}

/// The overdue clock and the tasks behind it: the control follower and the
/// sweeper, both stopping at `shutdown`.
pub(crate) struct Started {
    pub(crate) clock: Arc<OverdueClock>,
    pub(crate) follower: tokio::task::JoinHandle<()>,
    pub(crate) sweeper: tokio::task::JoinHandle<()>,
}

/// Reads the controls in force, then follows them and sweeps until `shutdown`.
pub(crate) async fn start(
    config: &OverdueConfig,
    kafka: &orch_kafka::KafkaConfig,
    pool: PgPool,
    producer: orch_kafka::FutureProducer,
    shutdown: CancellationToken,
) -> Result<Started, crate::StartupError> {
    let pause = Arc::new(PauseClock::default());
    let reader = {
        let (kafka, sink) = (kafka.clone(), pause::PauseSink(pause.clone()));
        tokio::task::spawn_blocking(move || {
            orch_kafka::ControlReader::load(&kafka, "orch-query", sink)
        })
        .await
        .map_err(|error| crate::StartupError::Config(format!("control reader failed: {error}")))??
    };
    let follower = {
        let stop = shutdown.clone();
        tokio::task::spawn_blocking(move || reader.follow(&stop))
    };
    let clock = Arc::new(OverdueClock::new(config.after(), pause));
    let sweeper = Sweeper {
        pool,
        producer,
        raw_topic: kafka.topics().raw,
        clock: clock.clone(),
        batch: i64::from(config.sweep_batch),
    };
    let sweeper = tokio::spawn(sweeper.run(config.interval(), shutdown));
    Ok(Started {
        clock,
        follower,
        sweeper,
    })
}
