//! Segment files: `<first seq, 20 digits>.seg`, appended in seq order, deleted
//! whole once every entry in them has been forwarded.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::entry::{self, Decoded, Entry};
use super::quarantine::{Quarantine, QuarantineItem, QuarantineKind};

const SUFFIX: &str = ".seg";

/// A segment file and the seq of its first entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) first_seq: u64,
    pub(crate) path: PathBuf,
}

/// The path of the segment starting at `first_seq`.
pub(crate) fn path_for(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}{SUFFIX}"))
}

/// Every segment in `dir`, oldest first.
pub(crate) fn list(dir: &Path) -> io::Result<Vec<Segment>> {
    let mut segments = Vec::new();
    for item in fs::read_dir(dir)? {
        let path = item?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(first_seq) = name.strip_suffix(SUFFIX).and_then(|n| n.parse().ok()) {
            segments.push(Segment { first_seq, path });
        }
    }
    segments.sort_by_key(|segment| segment.first_seq);
    Ok(segments)
}

/// fsyncs a directory, so a created, renamed or deleted file stays so after a crash.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// What a whole segment holds, read on recovery (for the last segment).
#[derive(Debug)]
pub(crate) struct Scan {
    /// The seq of the last valid entry, anywhere in the segment.
    pub(crate) last_seq: Option<u64>,
    /// Where the last valid entry ends: bytes after it are a torn write.
    pub(crate) valid_len: u64,
    /// Damaged stretches between valid entries (left for the reader, which
    /// quarantines them when it gets there).
    pub(crate) corrupt_stretches: usize,
}

/// Scans a segment from the start. A damaged stretch does not end the scan:
/// valid entries after it are found again (`resync`), so fsynced,
/// acknowledged entries are never taken for a torn tail.
pub(crate) fn scan(path: &Path) -> io::Result<Scan> {
    Ok(walk(&fs::read(path)?, |_| {}))
}

/// Walks a segment's bytes as `scan` does, handing each valid entry to
/// `on_entry`.
pub(crate) fn walk(bytes: &[u8], mut on_entry: impl FnMut(Entry)) -> Scan {
    let mut at = 0;
    let mut valid_len = 0;
    let mut last_seq: Option<u64> = None;
    let mut corrupt_stretches = 0;
    while at < bytes.len() {
        match entry::decode(&bytes[at..]) {
            Decoded::Entry(entry, used) => {
                last_seq = Some(entry.seq);
                at += used;
                valid_len = at;
                on_entry(entry);
            }
            Decoded::Incomplete | Decoded::Corrupt => {
                let min_seq = last_seq.map_or(0, |seq| seq + 1);
                match resync(&bytes[at..], min_seq) {
                    Some(skip) => {
                        corrupt_stretches += 1;
                        at += skip;
                    }
                    None => break,
                }
            }
        }
    }
    Scan {
        last_seq,
        valid_len: valid_len as u64,
        corrupt_stretches,
    }
}

/// Where the next valid entry after a damaged one starts in `bytes` (which
/// begin at the damage), skipping at least one byte: the first offset where
/// a whole entry with a valid checksum and a seq of at least `min_seq` is.
pub(crate) fn resync(bytes: &[u8], min_seq: u64) -> Option<usize> {
    (1..bytes.len()).find(|&at| {
        bytes[at] == entry::MAGIC
            && matches!(entry::decode(&bytes[at..]), Decoded::Entry(ref e, _) if e.seq >= min_seq)
    })
}

/// Reads entries in seq order across segments, from a given seq, never past
/// what the writer has made durable. A damaged stretch is quarantined and
/// skipped: the entries after it are read as usual.
#[derive(Debug)]
pub(crate) struct Reader {
    dir: PathBuf,
    /// The segment being read, and the byte offset of the next entry in it.
    current: Option<(Segment, u64)>,
    /// Seq of the next entry to return.
    next_seq: u64,
    quarantine: Quarantine,
    /// Quarantined by reads since the last `take_quarantined`.
    quarantined: Vec<QuarantineItem>,
    window: u64,
}

/// A read that could not go on: the disk failed, or damaged bytes could not
/// be kept in the quarantine (so they are not skipped either).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("spool I/O failed")]
    Io(#[from] io::Error),
}

impl Reader {
    /// A reader whose first entry will be `from_seq`; one read looks at
    /// `window` bytes of a segment (at least two of the largest entries).
    pub(crate) fn new(dir: PathBuf, from_seq: u64, window: u64) -> Self {
        Self {
            quarantine: Quarantine::new(&dir),
            dir,
            current: None,
            next_seq: from_seq,
            quarantined: Vec::new(),
            window: window.max(MIN_READ_WINDOW),
        }
    }

    /// What reads quarantined since the last call.
    pub(crate) fn take_quarantined(&mut self) -> Vec<QuarantineItem> {
        std::mem::take(&mut self.quarantined)
    }

    /// Up to `max` entries with seq below `durable_seq`, in seq order.
    pub(crate) fn read(&mut self, durable_seq: u64, max: usize) -> Result<Vec<Entry>, ReadError> {
        let mut out = Vec::new();
        while out.len() < max && self.next_seq < durable_seq {
            let (segment, offset) = match self.current.take() {
                Some(current) => current,
                None => match self.segment_holding_next()? {
                    Some(segment) => (segment, 0),
                    None => break,
                },
            };
            let mut file = match File::open(&segment.path) {
                Ok(file) => file,
                // Wholly forwarded and deleted by the writer (it rolls a
                // drained spool onto a new segment): read on from there.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    match self.segment_holding_next()? {
                        Some(next) if next.first_seq != segment.first_seq => {
                            self.current = Some((next, 0));
                            continue;
                        }
                        _ => break,
                    }
                }
                Err(error) => return Err(error.into()),
            };
            file.seek(SeekFrom::Start(offset))?;
            let mut bytes = Vec::new();
            // A bounded window: entries are at most the request size limit.
            file.take(self.window).read_to_end(&mut bytes)?;
            let mut at = 0;
            let mut damaged = false;
            while out.len() < max && self.next_seq < durable_seq {
                match entry::decode(&bytes[at..]) {
                    Decoded::Entry(entry, used) => {
                        at += used;
                        if entry.seq >= self.next_seq {
                            self.next_seq = entry.seq + 1;
                            out.push(entry);
                        }
                    }
                    // Below the durable seq every entry is whole, and one
                    // that starts in the first half of the window fits in
                    // it: stopping short there with bytes left is damage (a
                    // length field that lies). Leftover bytes past the half
                    // are read again from their start by the next round.
                    Decoded::Incomplete if at < bytes.len() && (at as u64) < self.window / 2 => {
                        damaged = true;
                        break;
                    }
                    Decoded::Incomplete => break,
                    Decoded::Corrupt => {
                        damaged = true;
                        break;
                    }
                }
            }
            let position = offset + at as u64;
            if damaged {
                let resumed = self.skip_damage(&segment, position)?;
                self.current = Some((segment, resumed));
                continue;
            }
            let exhausted = at == 0;
            self.current = Some((segment, position));
            if exhausted {
                // Nothing more here: the next durable entry starts a later segment.
                match self.segment_after_current()? {
                    Some(next) => self.current = Some((next, 0)),
                    None => break,
                }
            }
        }
        Ok(out)
    }

    /// Quarantines the damaged bytes at `position` up to the next valid
    /// entry (or the segment's end) and returns where reading goes on.
    fn skip_damage(&mut self, segment: &Segment, position: u64) -> Result<u64, ReadError> {
        let mut file = File::open(&segment.path)?;
        file.seek(SeekFrom::Start(position))?;
        let mut rest = Vec::new();
        file.read_to_end(&mut rest)?;
        let skip = resync(&rest, self.next_seq).unwrap_or(rest.len());
        let name = format!("{:020}-{position}", segment.first_seq);
        let reason = format!(
            "{} bytes at offset {position} of {} are not valid entries",
            skip,
            segment.path.display()
        );
        let item =
            self.quarantine
                .keep(&name, QuarantineKind::Corrupt, &reason, None, &rest[..skip])?;
        self.quarantined.push(item);
        Ok(position + skip as u64)
    }

    /// The last segment starting at or before `next_seq`.
    fn segment_holding_next(&self) -> io::Result<Option<Segment>> {
        let segments = list(&self.dir)?;
        let holding = segments.iter().rev().find(|s| s.first_seq <= self.next_seq);
        Ok(holding.or(segments.first()).cloned())
    }

    /// The segment after the one being read, if the writer has started it.
    fn segment_after_current(&self) -> io::Result<Option<Segment>> {
        let current = self.current.as_ref().map_or(0, |(s, _)| s.first_seq);
        Ok(list(&self.dir)?.into_iter().find(|s| s.first_seq > current))
    }
}

/// The least a read looks at.
const MIN_READ_WINDOW: u64 = 4 * 1024 * 1024;
