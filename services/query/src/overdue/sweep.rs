//! One sweep: count what is overdue (every replica, for the gauges), then,
//! holding the sweep lock, mark events that overran their sweep and publish
//! the newly overdue ones again.

use std::sync::Arc;
use std::time::Duration;

use orch_telemetry::InternalEvent as _;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::OverdueClock;
use super::internal_events::{OverdueCounted, SweepFailed, Swept};
use crate::republish::{StoredEvent, republish};

/// The advisory lock key one sweep holds ("orchswep"): replicas that find
/// it taken skip their turn.
const SWEEP_LOCK: i64 = 0x6f72_6368_7377_6570;

/// Sweeps on a timer.
pub(crate) struct Sweeper {
    pub(crate) pool: PgPool,
    pub(crate) producer: orch_kafka::FutureProducer,
    pub(crate) raw_topic: String,
    pub(crate) clock: Arc<OverdueClock>,
    pub(crate) batch: i64,
}

/// What the overdue events look like now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OverdueCount {
    pub(crate) overdue: i64,
    pub(crate) overdue_failed: i64,
    pub(crate) oldest_age: Duration,
}

impl Sweeper {
    /// Sweeps every `interval` until `shutdown`; a failed sweep is logged
    /// and the next one tries again.
    pub(crate) async fn run(self, interval: Duration, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if let Err(error) = self.sweep().await {
                SweepFailed { error: &error }.emit();
            }
        }
    }

    /// One sweep; returns how many events it published again.
    pub(crate) async fn sweep(&self) -> Result<usize, sqlx::Error> {
        let now = OffsetDateTime::now_utc();
        let Some(cutoff) = self.clock.cutoff(now) else {
            OverdueCounted(OverdueCount {
                overdue: 0,
                overdue_failed: 0,
                oldest_age: Duration::ZERO,
            })
            .emit();
            return Ok(0);
        };
        OverdueCounted(count(&self.pool, cutoff, now).await?).emit();

        let mut tx = self.pool.begin().await?;
        let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(SWEEP_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !ours {
            return Ok(0);
        }
        // Swept once and still not final a whole limit later: given up on
        // (listed, never swept again).
        let failed = sqlx::query(
            "UPDATE event_sweeps s SET overdue_failed_at = now() FROM events e \
             WHERE e.id = s.event_id AND s.overdue_failed_at IS NULL \
               AND e.status IN ('accepted', 'retrying') AND s.swept_at < $1",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // An event whose generation a record saturated at i32::MAX has no
        // next one: `+ 1` would fail the whole query, and with it every
        // sweep after, so it is left to the listing and its alert.
        let due: Vec<StoredEvent> = sqlx::query_as(
            "SELECT e.id, e.name, e.body, e.event_timestamp, e.accepted_at, e.trace_id, \
                    e.correlation_id, e.extra::text AS extra, e.status_generation + 1 AS generation \
             FROM events e \
             WHERE e.status IN ('accepted', 'retrying') AND e.accepted_at < $1 \
               AND e.name IS NOT NULL AND e.body IS NOT NULL \
               AND e.status_generation < 2147483647 \
               AND NOT EXISTS (SELECT 1 FROM event_sweeps s WHERE s.event_id = e.id) \
             ORDER BY e.accepted_at, e.id LIMIT $2",
        )
        .bind(cutoff)
        .bind(self.batch)
        .fetch_all(&mut *tx)
        .await?;
        let generations: std::collections::HashMap<String, i32> =
            due.iter().map(|e| (e.id.clone(), e.generation)).collect();
        let found = due.len();
        let done = republish(&self.producer, &self.raw_topic, due, "overdue_sweep").await;
        // Only what the broker took is recorded: the rest are found again by
        // the next sweep. A crash before the commit publishes them again at
        // the same generation, which the dispatcher and projector take once.
        let (ids, gens): (Vec<String>, Vec<i32>) = done
            .ids
            .iter()
            .filter_map(|id| Some((id.as_str().to_owned(), *generations.get(id.as_str())?)))
            .unzip();
        sqlx::query(
            "INSERT INTO event_sweeps (event_id, generation, swept_at) \
             SELECT id, generation, now() FROM unnest($1::text[], $2::int[]) AS t(id, generation) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&ids)
        .bind(&gens)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Swept {
            found,
            published: ids.len(),
            overdue_failed: failed,
            failure: done.failure.as_deref(),
        }
        .emit();
        Ok(ids.len())
    }
}

/// Overdue events now: how many, how many overran their sweep, the oldest's age.
async fn count(
    pool: &PgPool,
    cutoff: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<OverdueCount, sqlx::Error> {
    let (overdue, overdue_failed, oldest): (i64, i64, Option<OffsetDateTime>) = sqlx::query_as(
        "SELECT count(*), count(s.overdue_failed_at), min(e.accepted_at) \
         FROM events e LEFT JOIN event_sweeps s ON s.event_id = e.id \
         WHERE e.status IN ('accepted', 'retrying') AND e.accepted_at < $1",
    )
    .bind(cutoff)
    .fetch_one(pool)
    .await?;
    let oldest_age = oldest
        .map(|at| Duration::try_from(now - at).unwrap_or_default())
        .unwrap_or_default();
    Ok(OverdueCount {
        overdue,
        overdue_failed,
        oldest_age,
    })
}
