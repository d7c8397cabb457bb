//! `orchctl spool inspect | export`: what a stopped command replica's spool
//! holds, read offline from its directory without changing it.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use orch_command::spool::{self, Inventory};
use time::OffsetDateTime;

/// Arguments of `orchctl spool inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// The spool directory (a stopped replica's COMMAND_SPOOL_DIR).
    pub dir: PathBuf,
    /// Print the inventory as JSON.
    #[arg(long)]
    pub json: bool,
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
pub fn inspect(args: &InspectArgs) -> anyhow::Result<()> {
    let inventory = spool::inspect(&args.dir)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&inventory)?);
    } else {
        print!("{}", summary(&inventory));
    }
    Ok(())
}

/// Writes every pending entry and quarantined item as NDJSON.
pub fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let exported = match &args.out {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .with_context(|| {
                    format!(
                        "Could not create {} (it must not exist yet)",
                        path.display()
                    )
                })?;
            let mut out = std::io::BufWriter::new(file);
            let exported = spool::export(&args.dir, &mut out)?;
            out.into_inner()
                .map_err(std::io::IntoInnerError::into_error)?
                .sync_all()?;
            exported
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let exported = spool::export(&args.dir, &mut out)?;
            out.flush()?;
            exported
        }
    };
    eprintln!(
        "Exported {} pending entries and {} quarantined items.",
        exported.pending, exported.quarantined
    );
    Ok(())
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
