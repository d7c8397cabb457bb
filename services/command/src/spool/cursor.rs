//! The forwarding cursor: every entry with a smaller seq is in Kafka. Written
//! atomically (temporary file, fsync, rename, fsync the directory), so after a
//! crash it is either the old or the new value, never a torn one.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use super::segments::sync_dir;

const FILE: &str = "cursor";

/// The stored cursor, or 0 when the spool is new.
pub(crate) fn load(dir: &Path) -> io::Result<u64> {
    match fs::read_to_string(dir.join(FILE)) {
        Ok(text) => text.trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("spool cursor file holds {text:?}, not a number"),
            )
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(error) => Err(error),
    }
}

/// Stores `seq` durably.
pub(crate) fn store(dir: &Path, seq: u64) -> io::Result<()> {
    let tmp = dir.join(format!("{FILE}.tmp"));
    let mut file = fs::File::create(&tmp)?;
    file.write_all(seq.to_string().as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(FILE))?;
    sync_dir(dir)
}
