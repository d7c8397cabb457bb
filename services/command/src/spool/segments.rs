//! Segment files: `<first seq, 20 digits>.seg`, appended in seq order, deleted
//! whole once every entry in them has been forwarded.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::entry::{self, Decoded, Entry};

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

/// The valid entries of a whole segment and where they end. Stops at the first
/// incomplete or corrupt entry; `corrupt` says which.
#[derive(Debug)]
pub(crate) struct Scan {
    pub(crate) last_seq: Option<u64>,
    pub(crate) valid_len: u64,
    pub(crate) corrupt: bool,
}

/// Scans a segment from the start (used on recovery for the last segment).
pub(crate) fn scan(path: &Path) -> io::Result<Scan> {
    let bytes = fs::read(path)?;
    let mut at = 0;
    let mut last_seq = None;
    loop {
        match entry::decode(&bytes[at..]) {
            Decoded::Entry(entry, used) => {
                last_seq = Some(entry.seq);
                at += used;
            }
            Decoded::Incomplete => {
                return Ok(Scan {
                    last_seq,
                    valid_len: at as u64,
                    corrupt: false,
                });
            }
            Decoded::Corrupt => {
                return Ok(Scan {
                    last_seq,
                    valid_len: at as u64,
                    corrupt: true,
                });
            }
        }
    }
}

/// Reads entries in seq order across segments, from a given seq, never past
/// what the writer has made durable.
#[derive(Debug)]
pub(crate) struct Reader {
    dir: PathBuf,
    /// The segment being read, and the byte offset of the next entry in it.
    current: Option<(Segment, u64)>,
    /// Seq of the next entry to return.
    next_seq: u64,
}

/// A read that found a damaged entry: the disk lost data the spool had fsynced.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("spool I/O failed")]
    Io(#[from] io::Error),
    #[error("spool segment {path} is corrupt at byte {offset}")]
    Corrupt { path: PathBuf, offset: u64 },
}

impl Reader {
    /// A reader whose first entry will be `from_seq`.
    pub(crate) fn new(dir: PathBuf, from_seq: u64) -> Self {
        Self {
            dir,
            current: None,
            next_seq: from_seq,
        }
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
            let mut file = File::open(&segment.path)?;
            file.seek(SeekFrom::Start(offset))?;
            let mut bytes = Vec::new();
            // A bounded window: entries are at most the request size limit.
            file.take(READ_WINDOW).read_to_end(&mut bytes)?;
            let mut at = 0;
            while out.len() < max && self.next_seq < durable_seq {
                match entry::decode(&bytes[at..]) {
                    Decoded::Entry(entry, used) => {
                        at += used;
                        if entry.seq >= self.next_seq {
                            self.next_seq = entry.seq + 1;
                            out.push(entry);
                        }
                    }
                    Decoded::Incomplete => break,
                    Decoded::Corrupt => {
                        return Err(ReadError::Corrupt {
                            offset: offset + at as u64,
                            path: segment.path,
                        });
                    }
                }
            }
            let exhausted = at == 0;
            self.current = Some((segment, offset + at as u64));
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

/// How much of a segment one read looks at.
const READ_WINDOW: u64 = 4 * 1024 * 1024;
