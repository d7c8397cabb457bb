//! The command line: how many runs, how big, from which seed.

use std::path::PathBuf;

use crate::schedule::Profile;

/// Runs the whole pipeline under randomized faults and checks every event.
#[derive(Debug, clap::Parser)]
#[command(name = "orch-faults", version = orch_telemetry::long_version(), about)]
pub(crate) struct Args {
    /// Randomized runs, one after another.
    #[arg(long, default_value_t = 1)]
    pub(crate) runs: u32,

    /// Events the oracle issues in each run.
    #[arg(long, default_value_t = 5_000)]
    pub(crate) events: u32,

    /// Seed of the first run (run n uses seed + n); random when unset. Printed,
    /// so a run can be replayed with the same schedule and events.
    #[arg(long, env = "FAULTS_SEED")]
    pub(crate) seed: Option<u64>,

    /// `long` faults (the proof) or `short` ones (the test command's smoke run).
    #[arg(long, value_enum, default_value_t = Profile::Long)]
    pub(crate) profile: Profile,

    /// Directory holding the built service binaries (orch-command, …).
    #[arg(long)]
    pub(crate) bin_dir: PathBuf,

    /// Scratch directory: service logs, spools, the target's data.
    #[arg(long)]
    pub(crate) work_dir: PathBuf,

    /// Where the report (JSON and markdown) is written; none when unset.
    #[arg(long)]
    pub(crate) results_dir: Option<PathBuf>,

    /// Partitions of each run's topics.
    #[arg(long, default_value_t = 3)]
    pub(crate) partitions: u32,
}
