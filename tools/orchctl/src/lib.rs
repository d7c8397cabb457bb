//! The operations behind `orchctl`, as a library so tests drive them against
//! the real broker exactly as the command line does. Every subcommand has
//! one entry shape, `run(args) -> anyhow::Result<ExitCode>` (nested ones are
//! named after their verb), printing text or `--output json`; `exit` names
//! the codes.

pub mod dead_letters;
pub mod delivery;
pub mod dlq_list;
pub mod exit;
pub mod groups;
pub mod offsets;
pub mod output;
pub mod probe;
pub mod rebuild;
pub mod redrive;
pub mod replay;
pub mod spool;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Parses a command-line time, saying what shape is expected.
pub fn parse_time(value: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(value, &Rfc3339)
        .map_err(|_| format!("{value:?} is not an RFC 3339 time, like 2026-11-22T08:00:00Z"))
}
