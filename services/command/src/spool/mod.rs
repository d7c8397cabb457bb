//! The local durable spool: where an accepted event goes when Kafka does not
//! acknowledge it within the publish budget, so the 202 promise holds while the
//! broker is slow or down. Append-only checksummed segments, fsync'd before the
//! caller is answered (group commit), bounded in size; the forwarder drains it
//! to Kafka in order and deletes only what Kafka acknowledged.

mod cursor;
mod entry;
mod inspect;
mod quarantine;
mod segments;
mod writer;

use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::{Notify, mpsc, oneshot};

pub(crate) use entry::Entry;
pub use inspect::{Exported, InspectError, Inventory, SegmentSummary, export, inspect};
pub(crate) use quarantine::Quarantine;
pub use quarantine::{QuarantineItem, QuarantineKind};
pub(crate) use segments::Reader;
pub(crate) use writer::now_ms;

/// The lock file that keeps a second process out of a spool directory.
const LOCK_FILE: &str = "LOCK";

/// Why an event could not be spooled (the caller answers 503).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpoolError {
    /// The spool holds its configured maximum.
    #[error("the spool is full")]
    Full,
    /// Writing or fsyncing failed.
    #[error("the spool's disk failed: {0}")]
    Io(io::ErrorKind),
    /// An earlier failure could not be undone; the spool refuses appends.
    #[error("the spool is disabled after a disk failure; restart the service")]
    Failed,
    /// The writer has stopped (shutdown).
    #[error("the spool is closed")]
    Closed,
    /// The record is larger than the spool's entry limit (a bug: the body
    /// limit is checked against it at start).
    #[error("the record is larger than the spool's entry limit")]
    TooLarge,
}

/// Why the spool could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SpoolOpenError {
    /// The directory could not be created, listed or read.
    #[error("could not open the spool at {dir}")]
    Io {
        /// The spool directory.
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Another process holds the spool: two writers would corrupt it.
    #[error(
        "the spool at {dir} is in use by another process (its LOCK file is locked); give each replica a directory of its own"
    )]
    Locked {
        /// The spool directory.
        dir: PathBuf,
    },
}

/// What became of the producer's own attempt for a spooled record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Original {
    /// Still queued in the producer: do not send it again yet.
    Pending,
    /// Kafka has it after all: skip it.
    Delivered,
}

/// State shared by the handle, the writer thread and the forwarder.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) next_seq: AtomicU64,
    /// Every entry below this is written and fsync'd.
    pub(crate) durable_seq: AtomicU64,
    /// Every entry below this is in Kafka.
    pub(crate) cursor: AtomicU64,
    /// Bytes in segment files.
    pub(crate) bytes: AtomicU64,
    /// When the entry at the cursor was appended (ms since the epoch; 0: none).
    pub(crate) oldest_ms: AtomicU64,
    pub(crate) max_bytes: u64,
    pub(crate) healthy: AtomicBool,
    pub(crate) failed: AtomicBool,
    /// The last append was refused for lack of room, and nothing was freed since.
    pub(crate) full: AtomicBool,
    /// Items in the quarantine.
    pub(crate) quarantined: AtomicU64,
    pub(crate) originals: Mutex<HashMap<u64, Original>>,
    pub(crate) appended: Notify,
}

impl Shared {
    pub(crate) fn lock_originals(&self) -> MutexGuard<'_, HashMap<u64, Original>> {
        self.originals.lock()
    }
}

/// Point-in-time figures for metrics and readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolStats {
    /// Entries not yet in Kafka.
    pub depth: u64,
    /// Bytes on disk.
    pub bytes: u64,
    /// Age of the oldest entry not yet in Kafka, in ms (0 when empty).
    pub oldest_age_ms: u64,
    /// Whether the last write succeeded and the spool has room for more.
    pub healthy: bool,
    /// Items in the quarantine: bytes or records that could not be forwarded.
    pub quarantined: u64,
}

/// A handle to the spool; cheap to clone.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
    shared: Arc<Shared>,
    requests: mpsc::Sender<writer::AppendRequest>,
    /// Held, locked, as long as any handle lives.
    _lock: Arc<std::fs::File>,
    /// The forwarding cursor's file; the forwarder alone stores it.
    cursor: Arc<Mutex<cursor::Cursor>>,
    read_window: u64,
}

impl Spool {
    /// Opens (or creates) the spool in `dir` and starts its writer thread.
    /// A torn last entry left by a crash is kept in the quarantine and cut
    /// off; a damaged stretch between valid entries is left for the reader,
    /// which quarantines it and reads on, so no fsynced entry after it is
    /// lost. `max_entry_bytes` is the largest payload an append may carry.
    pub fn open(
        dir: &Path,
        max_bytes: u64,
        segment_bytes: u64,
        max_entry_bytes: usize,
    ) -> Result<Self, SpoolOpenError> {
        let io_error = |source| SpoolOpenError::Io {
            dir: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io_error)?;
        let lock = lock(dir)?;
        let (cursor_file, cursor) = cursor::Cursor::open(dir).map_err(io_error)?;
        let all = segments::list(dir).map_err(io_error)?;
        let quarantine = Quarantine::new(dir);
        let mut next_seq = cursor;
        let mut bytes = 0;
        for (i, segment) in all.iter().enumerate() {
            let mut len = std::fs::metadata(&segment.path).map_err(io_error)?.len();
            if i + 1 == all.len() {
                let scan = segments::scan(&segment.path).map_err(io_error)?;
                if scan.corrupt_stretches > 0 {
                    tracing::error!(path = %segment.path.display(), stretches = scan.corrupt_stretches,
                        "The spool's last segment has damaged stretches between valid entries; the entries around them are kept and the damage is quarantined as the forwarder reaches it.");
                }
                if scan.valid_len < len {
                    let torn = std::fs::read(&segment.path).map_err(io_error)?;
                    let torn = &torn[usize::try_from(scan.valid_len).unwrap_or(torn.len())..];
                    let name = format!("{:020}-{}", segment.first_seq, scan.valid_len);
                    let reason = format!(
                        "{} bytes after the last valid entry of {}: a crash mid-append",
                        torn.len(),
                        segment.path.display()
                    );
                    quarantine
                        .keep(&name, QuarantineKind::Torn, &reason, None, torn)
                        .map_err(io_error)?;
                    tracing::warn!(path = %segment.path.display(), valid = scan.valid_len, len,
                        "Cut off the spool's torn last entry (a crash mid-write; it was never acknowledged); its bytes are in the quarantine.");
                    let file = std::fs::OpenOptions::new()
                        .write(true)
                        .open(&segment.path)
                        .map_err(io_error)?;
                    file.set_len(scan.valid_len).map_err(io_error)?;
                    file.sync_all().map_err(io_error)?;
                    len = scan.valid_len;
                }
                next_seq = next_seq.max(scan.last_seq.map_or(segment.first_seq, |seq| seq + 1));
            }
            bytes += len;
        }
        let quarantined = quarantine.items().map_err(io_error)?.len() as u64;
        let shared = Arc::new(Shared {
            next_seq: AtomicU64::new(next_seq),
            durable_seq: AtomicU64::new(next_seq),
            cursor: AtomicU64::new(cursor),
            bytes: AtomicU64::new(bytes),
            oldest_ms: AtomicU64::new(0),
            max_bytes,
            healthy: AtomicBool::new(true),
            failed: AtomicBool::new(false),
            full: AtomicBool::new(false),
            quarantined: AtomicU64::new(quarantined),
            originals: Mutex::new(HashMap::new()),
            appended: Notify::new(),
        });
        if next_seq > cursor {
            tracing::info!(
                records = next_seq - cursor,
                "Spool holds events from before the restart; forwarding them."
            );
        }
        let (requests, receiver) = mpsc::channel(16_384);
        let writer = writer::Writer {
            dir: dir.to_owned(),
            shared: shared.clone(),
            segment_bytes,
            max_entry_bytes,
            current: None,
        };
        std::thread::Builder::new()
            .name("spool-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(io_error)?;
        Ok(Self {
            dir: dir.to_owned(),
            shared,
            requests,
            _lock: Arc::new(lock),
            cursor: Arc::new(Mutex::new(cursor_file)),
            // Twice the largest entry: one that starts in the first half of
            // a read always fits in it.
            read_window: 2 * entry::encoded_len(max_entry_bytes) as u64,
        })
    }

    /// A reader of this spool from `from_seq`.
    pub(crate) fn reader(&self, from_seq: u64) -> Reader {
        Reader::new(self.dir.clone(), from_seq, self.read_window)
    }

    /// The quarantine, for the forwarder's records that cannot be sent.
    pub(crate) fn quarantine(&self) -> Quarantine {
        Quarantine::new(&self.dir)
    }

    /// Counts items put in the quarantine.
    pub(crate) fn note_quarantined(&self, items: u64) {
        self.shared.quarantined.fetch_add(items, Ordering::AcqRel);
    }

    /// Appends one payload and returns its seq once it is fsync'd.
    pub(crate) async fn append(
        &self,
        payload: Vec<u8>,
        original_pending: bool,
    ) -> Result<u64, SpoolError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(writer::AppendRequest {
                payload,
                original_pending,
                reply,
            })
            .await
            .map_err(|_| SpoolError::Closed)?;
        answer.await.map_err(|_| SpoolError::Closed)?
    }

    /// Records the producer's own result for a spooled record.
    pub(crate) fn resolve_original(&self, seq: u64, delivered: bool) {
        let mut originals = self.shared.lock_originals();
        if delivered {
            originals.insert(seq, Original::Delivered);
        } else {
            originals.remove(&seq);
        }
        drop(originals);
        self.shared.appended.notify_one();
    }

    /// Current figures.
    pub fn stats(&self) -> SpoolStats {
        let cursor = self.shared.cursor.load(Ordering::Acquire);
        let durable = self.shared.durable_seq.load(Ordering::Acquire);
        let oldest = self.shared.oldest_ms.load(Ordering::Acquire);
        let depth = durable.saturating_sub(cursor);
        SpoolStats {
            depth,
            bytes: self.shared.bytes.load(Ordering::Acquire),
            oldest_age_ms: if depth == 0 || oldest == 0 {
                0
            } else {
                now_ms().saturating_sub(oldest)
            },
            healthy: self.shared.healthy.load(Ordering::Acquire)
                && !self.shared.failed.load(Ordering::Acquire)
                && !self.shared.full.load(Ordering::Acquire),
            quarantined: self.shared.quarantined.load(Ordering::Acquire),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Marks everything below `seq` as in Kafka: stores the cursor durably and
    /// deletes segments that hold nothing at or above it.
    pub(crate) fn advance(&self, seq: u64, oldest_ms: u64) -> io::Result<()> {
        self.cursor.lock().store(seq)?;
        self.shared.cursor.store(seq, Ordering::Release);
        self.shared.oldest_ms.store(oldest_ms, Ordering::Release);
        let all = segments::list(&self.dir)?;
        // A segment is done when the next one starts at or below the cursor;
        // the last segment is the writer's and is never deleted here.
        let mut deleted = false;
        for pair in all.windows(2) {
            if pair[1].first_seq <= seq {
                let len = std::fs::metadata(&pair[0].path)
                    .map(|m| m.len())
                    .unwrap_or(0);
                match std::fs::remove_file(&pair[0].path) {
                    Ok(()) => {
                        self.shared.bytes.fetch_sub(len, Ordering::AcqRel);
                        deleted = true;
                    }
                    // The writer rolled it away itself (see `Writer`).
                    Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                    Err(error) => return Err(error),
                }
            }
        }
        if deleted {
            self.shared.full.store(false, Ordering::Release);
            segments::sync_dir(&self.dir)?;
        }
        Ok(())
    }
}

/// Takes the spool's lock file, or says who holds it. The lock is an OS
/// file lock, so it is released when the process dies, however it dies.
fn lock(dir: &Path) -> Result<std::fs::File, SpoolOpenError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| SpoolOpenError::Io {
            dir: dir.to_owned(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(SpoolOpenError::Locked {
            dir: dir.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(SpoolOpenError::Io {
            dir: dir.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fill(spool: &Spool, count: usize, size: usize) -> Vec<u64> {
        let mut seqs = Vec::new();
        for i in 0..count {
            seqs.push(
                spool
                    .append(vec![b'a' + (i % 26) as u8; size], false)
                    .await
                    .unwrap(),
            );
        }
        seqs
    }

    #[tokio::test]
    async fn appends_survive_a_restart_and_are_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
        assert_eq!(fill(&spool, 5, 10).await, [0, 1, 2, 3, 4]);
        drop(spool);

        let reopened = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
        assert_eq!(reopened.stats().depth, 5);
        assert_eq!(fill(&reopened, 1, 10).await, [5]);
        let mut reader = reopened.reader(0);
        let entries = reader.read(6, 100).unwrap();
        let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [0, 1, 2, 3, 4, 5]);
        assert_eq!(entries[2].payload, vec![b'c'; 10]);
    }

    #[tokio::test]
    async fn a_torn_last_entry_is_cut_off_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
        fill(&spool, 3, 10).await;
        drop(spool);
        let segment = &segments::list(dir.path()).unwrap()[0];
        let len = std::fs::metadata(&segment.path).unwrap().len();
        // A crash in the middle of writing a fourth entry.
        let mut torn = Vec::new();
        entry::encode(3, 0, b"half-written", &mut torn);
        let mut bytes = std::fs::read(&segment.path).unwrap();
        bytes.extend_from_slice(&torn[..torn.len() / 2]);
        std::fs::write(&segment.path, &bytes).unwrap();

        let reopened = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
        assert_eq!(std::fs::metadata(&segment.path).unwrap().len(), len);
        assert_eq!(reopened.stats().depth, 3);
        let kept = reopened.quarantine().items().unwrap();
        assert_eq!(kept.len(), 1, "the torn bytes are kept, not just cut");
        assert_eq!(kept[0].kind, QuarantineKind::Torn);
        assert_eq!(reopened.stats().quarantined, 1);
        assert_eq!(fill(&reopened, 1, 4).await, [3]);
    }

    /// Byte offsets of each entry of a spool filled with `count` entries of `size`.
    fn offsets(count: usize, size: usize) -> Vec<usize> {
        (0..count).map(|i| i * entry::encoded_len(size)).collect()
    }

    #[tokio::test]
    async fn a_damaged_entry_mid_segment_is_quarantined_and_every_entry_after_it_is_kept() {
        for damage in ["payload", "length"] {
            let dir = tempfile::tempdir().unwrap();
            let spool = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
            fill(&spool, 10, 20).await;
            drop(spool);
            // The fifth entry's payload loses a bit, or its length field lies.
            let segment = &segments::list(dir.path()).unwrap()[0];
            let mut bytes = std::fs::read(&segment.path).unwrap();
            let fifth = offsets(10, 20)[4];
            match damage {
                "payload" => bytes[fifth + entry::HEADER_LEN + 3] ^= 0x01,
                _ => bytes[fifth + 2] = 0x7f,
            }
            std::fs::write(&segment.path, &bytes).unwrap();

            let reopened = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
            assert_eq!(
                std::fs::metadata(&segment.path).unwrap().len(),
                bytes.len() as u64,
                "{damage}: nothing is cut"
            );
            assert_eq!(
                reopened.stats().depth,
                10,
                "{damage}: all ten still to forward"
            );
            assert_eq!(fill(&reopened, 1, 20).await, [10], "{damage}: seqs go on");
            let mut reader = reopened.reader(0);
            let seqs: Vec<u64> = reader
                .read(11, 100)
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect();
            assert_eq!(seqs, [0, 1, 2, 3, 5, 6, 7, 8, 9, 10], "{damage}");
            let kept = reader.take_quarantined();
            assert_eq!(kept.len(), 1, "{damage}");
            assert_eq!(kept[0].kind, QuarantineKind::Corrupt);
            assert_eq!(
                kept[0].bytes,
                entry::encoded_len(20) as u64,
                "{damage}: exactly the damaged entry"
            );
        }
    }

    #[tokio::test]
    async fn a_drained_spool_gives_its_segment_back_at_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
        fill(&spool, 3, 100).await;
        spool.advance(2, 0).unwrap();
        fill(&spool, 1, 100).await;
        assert_eq!(
            segments::list(dir.path()).unwrap().len(),
            1,
            "one left unforwarded: kept"
        );
        spool.advance(4, 0).unwrap();
        assert_eq!(fill(&spool, 1, 10).await, [4]);
        let left = segments::list(dir.path()).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].first_seq, 4, "the forwarded segment is gone");
        assert_eq!(spool.stats().bytes, entry::encoded_len(10) as u64);
        // The reader goes on from the new segment.
        let entries = spool.reader(4).read(5, 10).unwrap();
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [4]);
        drop(spool);
        let reopened = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
        assert_eq!(reopened.stats().depth, 1);
        assert_eq!(fill(&reopened, 1, 10).await, [5]);
    }

    #[tokio::test]
    async fn a_second_process_cannot_open_a_spool_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
        // A lock taken by another open file description, as another process's.
        let other = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join(LOCK_FILE))
            .unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
        assert!(matches!(
            Spool::open(dir.path(), 1 << 20, 1 << 20, 1024),
            Err(SpoolOpenError::Locked { .. })
        ));
        drop(spool);
        assert!(
            Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).is_ok(),
            "free once closed"
        );
    }

    #[tokio::test]
    async fn an_entry_over_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20, 1 << 20, 1024).unwrap();
        assert_eq!(
            spool.append(vec![0; 1025], false).await,
            Err(SpoolError::TooLarge)
        );
        assert_eq!(fill(&spool, 1, 1024).await, [0]);
    }

    #[tokio::test]
    async fn a_full_spool_refuses_and_recovers_when_drained() {
        let dir = tempfile::tempdir().unwrap();
        let room = entry::encoded_len(100) as u64 * 3;
        // Small segments so that forwarding frees whole files.
        let spool = Spool::open(dir.path(), room, entry::encoded_len(100) as u64, 1024).unwrap();
        fill(&spool, 3, 100).await;
        assert_eq!(
            spool.append(vec![0; 100], false).await,
            Err(SpoolError::Full)
        );
        assert!(!spool.stats().healthy);

        spool.advance(2, 0).unwrap();
        assert_eq!(spool.stats().depth, 1);
        assert_eq!(fill(&spool, 1, 100).await, [3]);
    }

    #[tokio::test]
    async fn the_reader_crosses_segments_and_advance_deletes_finished_ones() {
        let dir = tempfile::tempdir().unwrap();
        let spool =
            Spool::open(dir.path(), 1 << 20, entry::encoded_len(10) as u64 * 2, 1024).unwrap();
        fill(&spool, 7, 10).await;
        assert!(segments::list(dir.path()).unwrap().len() >= 3);
        let mut reader = spool.reader(3);
        let seqs: Vec<u64> = reader.read(7, 100).unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5, 6]);

        spool.advance(7, 0).unwrap();
        let left = segments::list(dir.path()).unwrap();
        assert_eq!(left.len(), 1, "only the segment being written remains");
        assert_eq!(cursor::load(dir.path()).unwrap(), 7);
    }
}
