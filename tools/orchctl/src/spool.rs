//! `orchctl spool inspect | export`: what a stopped command replica's spool
//! holds, read offline from its directory without changing it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use orch_command::spool::{self, InspectError, Inventory};
use time::OffsetDateTime;

use crate::exit::Refused;
use crate::output::OutputArg;

/// Arguments of `orchctl spool inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// The spool directory (a stopped replica's COMMAND_SPOOL_DIR).
    pub dir: PathBuf,
    /// `json`: the inventory as one JSON document.
    #[command(flatten)]
    pub output: OutputArg,
}

/// Arguments of `orchctl spool export`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The spool directory (a stopped replica's COMMAND_SPOOL_DIR).
    pub dir: PathBuf,
    /// Write NDJSON here instead of standard output (refuses an existing file).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Prints what the spool holds.
pub fn inspect(args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let inventory = spool::inspect(&args.dir).map_err(refused_if_in_use)?;
    args.output
        .print(&inventory, |inventory| print!("{}", summary(inventory)))?;
    Ok(ExitCode::SUCCESS)
}

/// A spool a running replica holds is a refusal (stop it first), not a failure.
fn refused_if_in_use(error: InspectError) -> anyhow::Error {
    match error {
        InspectError::InUse(_) => Refused(error.to_string()).into(),
        other => other.into(),
    }
}

/// Creates `path` for the export; an existing file is refused, never overwritten.
fn create_new(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => Refused(format!(
                "{} exists already; name a new file (an export never overwrites one)",
                path.display()
            ))
            .into(),
            _ => anyhow::Error::new(error).context(format!("Could not create {}", path.display())),
        })
}

/// Writes every pending entry and quarantined item as NDJSON.
pub fn export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let exported = match &args.out {
        Some(path) => {
            let mut out = std::io::BufWriter::new(create_new(path)?);
            let exported = spool::export(&args.dir, &mut out).map_err(refused_if_in_use)?;
            out.into_inner()
                .map_err(std::io::IntoInnerError::into_error)?
                .sync_all()?;
            exported
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let exported = spool::export(&args.dir, &mut out).map_err(refused_if_in_use)?;
            out.flush()?;
            exported
        }
    };
    eprintln!(
        "Exported {} pending entries and {} quarantined items.",
        exported.pending, exported.quarantined
    );
    Ok(ExitCode::SUCCESS)
}

/// The inventory for a person.
pub fn summary(inventory: &Inventory) -> String {
    let mut text = format!(
        "cursor {} ({} entries not yet in Kafka{})\n",
        inventory.cursor,
        inventory.pending,
        inventory
            .oldest_pending_ms
            .and_then(
                |ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
            )
            .map(|at| format!(", oldest appended {at}"))
            .unwrap_or_default()
    );
    for segment in &inventory.segments {
        text += &format!(
            "  {}: {} bytes, {} entries, {} pending",
            segment.file, segment.bytes, segment.entries, segment.pending
        );
        if segment.damaged_stretches > 0 {
            text += &format!(", {} damaged stretches", segment.damaged_stretches);
        }
        if segment.torn_tail_bytes > 0 {
            text += &format!(", {} torn bytes at the end", segment.torn_tail_bytes);
        }
        text += "\n";
    }
    text += &format!("quarantine: {} items\n", inventory.quarantined.len());
    for item in &inventory.quarantined {
        text += &format!(
            "  {} [{}] {} bytes{}: {}\n",
            item.file,
            item.kind.as_str(),
            item.bytes,
            item.seq
                .map(|seq| format!(", seq {seq}"))
                .unwrap_or_default(),
            item.reason
        );
    }
    text
}
