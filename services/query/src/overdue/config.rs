//! The sweeper's settings.

use std::time::Duration;

/// When an event is overdue and how often the sweeper looks.
#[derive(Debug, Clone, clap::Args)]
pub struct OverdueConfig {
    /// An event not final this many seconds after acceptance is overdue
    /// (default 900, 15 minutes; 1 to 604800).
    #[arg(
        long,
        env = "QUERY_OVERDUE_AFTER_SECS",
        default_value_t = 900,
        value_parser = clap::value_parser!(u32).range(1..=604_800)
    )]
    pub overdue_after_secs: u32,

    /// Milliseconds between two sweeps of each replica (100 to 3600000).
    #[arg(
        long,
        env = "QUERY_SWEEP_INTERVAL_MS",
        default_value_t = 30_000,
        value_parser = clap::value_parser!(u32).range(100..=3_600_000)
    )]
    pub sweep_interval_ms: u32,

    /// Most overdue events one sweep publishes again (1 to 100000); the
    /// rest wait for the next sweep.
    #[arg(
        long,
        env = "QUERY_SWEEP_BATCH",
        default_value_t = 1_000,
        value_parser = clap::value_parser!(u32).range(1..=100_000)
    )]
    pub sweep_batch: u32,
}

impl OverdueConfig {
    pub(crate) fn after(&self) -> Duration {
        Duration::from_secs(u64::from(self.overdue_after_secs))
    }

    pub(crate) fn interval(&self) -> Duration {
        Duration::from_millis(u64::from(self.sweep_interval_ms))
    }
}

impl Default for OverdueConfig {
    fn default() -> Self {
        Self {
            overdue_after_secs: 900,
            sweep_interval_ms: 30_000,
            sweep_batch: 1_000,
        }
    }
}
