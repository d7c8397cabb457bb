//! The local durable spool: where an accepted event goes when Kafka does not
//! acknowledge it within the publish budget, so the 202 promise holds while the
//! broker is slow or down. Append-only checksummed segments, fsync'd before the
//! caller is answered (group commit), bounded in size; the forwarder drains it
//! to Kafka in order and deletes only what Kafka acknowledged.

mod cursor;
mod entry;
mod segments;
mod writer;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, mpsc, oneshot};

pub(crate) use entry::Entry;
pub(crate) use segments::{ReadError, Reader};
pub(crate) use writer::now_ms;

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
    pub(crate) originals: Mutex<HashMap<u64, Original>>,
    pub(crate) appended: Notify,
}

impl Shared {
    pub(crate) fn lock_originals(&self) -> MutexGuard<'_, HashMap<u64, Original>> {
        self.originals
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
}

/// A handle to the spool; cheap to clone.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
    shared: Arc<Shared>,
    requests: mpsc::Sender<AppendRequestHandle>,
}

type AppendRequestHandle = writer::AppendRequest;

impl Spool {
    /// Opens (or creates) the spool in `dir`, cutting off a torn last entry left
    /// by a crash, and starts its writer thread.
    pub fn open(dir: &Path, max_bytes: u64, segment_bytes: u64) -> Result<Self, SpoolOpenError> {
        let io_error = |source| SpoolOpenError::Io {
            dir: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io_error)?;
        let cursor = cursor::load(dir).map_err(io_error)?;
        let all = segments::list(dir).map_err(io_error)?;
        let mut next_seq = cursor;
        let mut bytes = 0;
        for (i, segment) in all.iter().enumerate() {
            let mut len = std::fs::metadata(&segment.path).map_err(io_error)?.len();
            if i + 1 == all.len() {
                let scan = segments::scan(&segment.path).map_err(io_error)?;
                if scan.valid_len < len {
                    tracing::warn!(path = %segment.path.display(), valid = scan.valid_len, len,
                        corrupt = scan.corrupt, "Cutting off the spool's torn last entry (a crash mid-write; it was never acknowledged).");
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
        })
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
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Marks everything below `seq` as in Kafka: stores the cursor durably and
    /// deletes segments that hold nothing at or above it.
    pub(crate) fn advance(&self, seq: u64, oldest_ms: u64) -> io::Result<()> {
        cursor::store(&self.dir, seq)?;
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
                std::fs::remove_file(&pair[0].path)?;
                self.shared.bytes.fetch_sub(len, Ordering::AcqRel);
                deleted = true;
            }
        }
        if deleted {
            self.shared.full.store(false, Ordering::Release);
            segments::sync_dir(&self.dir)?;
        }
        Ok(())
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
        let spool = Spool::open(dir.path(), 1 << 20, 1 << 20).unwrap();
        assert_eq!(fill(&spool, 5, 10).await, [0, 1, 2, 3, 4]);
        drop(spool);

        let reopened = Spool::open(dir.path(), 1 << 20, 1 << 20).unwrap();
        assert_eq!(reopened.stats().depth, 5);
        assert_eq!(fill(&reopened, 1, 10).await, [5]);
        let mut reader = Reader::new(dir.path().to_owned(), 0);
        let entries = reader.read(6, 100).unwrap();
        let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [0, 1, 2, 3, 4, 5]);
        assert_eq!(entries[2].payload, vec![b'c'; 10]);
    }

    #[tokio::test]
    async fn a_torn_last_entry_is_cut_off_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 20, 1 << 20).unwrap();
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

        let reopened = Spool::open(dir.path(), 1 << 20, 1 << 20).unwrap();
        assert_eq!(std::fs::metadata(&segment.path).unwrap().len(), len);
        assert_eq!(reopened.stats().depth, 3);
        assert_eq!(fill(&reopened, 1, 4).await, [3]);
    }

    #[tokio::test]
    async fn a_full_spool_refuses_and_recovers_when_drained() {
        let dir = tempfile::tempdir().unwrap();
        let room = entry::encoded_len(100) as u64 * 3;
        // Small segments so that forwarding frees whole files.
        let spool = Spool::open(dir.path(), room, entry::encoded_len(100) as u64).unwrap();
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
        let spool = Spool::open(dir.path(), 1 << 20, entry::encoded_len(10) as u64 * 2).unwrap();
        fill(&spool, 7, 10).await;
        assert!(segments::list(dir.path()).unwrap().len() >= 3);
        let mut reader = Reader::new(dir.path().to_owned(), 3);
        let seqs: Vec<u64> = reader.read(7, 100).unwrap().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5, 6]);

        spool.advance(7, 0).unwrap();
        let left = segments::list(dir.path()).unwrap();
        assert_eq!(left.len(), 1, "only the segment being written remains");
        assert_eq!(cursor::load(dir.path()).unwrap(), 7);
    }
}
