//! The single writer: appends batches of entries to the current segment and
//! fsyncs once per batch (group commit), so many concurrent requests share one
//! fsync. It runs on its own thread because every step blocks on the disk.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use super::entry;
use super::segments::{self, sync_dir};
use super::{Original, Shared, SpoolError};

/// Most appends written under one fsync.
const MAX_BATCH: usize = 2_048;

/// One append waiting for its batch's fsync.
pub(crate) struct AppendRequest {
    pub(crate) payload: Vec<u8>,
    /// The record is also still queued in the producer; the forwarder must wait
    /// for that attempt's result before sending it again.
    pub(crate) original_pending: bool,
    pub(crate) reply: oneshot::Sender<Result<u64, SpoolError>>,
}

pub(crate) struct Writer {
    pub(crate) dir: PathBuf,
    pub(crate) shared: Arc<Shared>,
    pub(crate) segment_bytes: u64,
    /// The largest payload an entry may carry: readers rely on it.
    pub(crate) max_entry_bytes: usize,
    /// The segment being appended to and its length.
    pub(crate) current: Option<(File, u64)>,
}

impl Writer {
    /// Serves appends until every sender is dropped.
    pub(crate) fn run(mut self, mut requests: mpsc::Receiver<AppendRequest>) {
        while let Some(first) = requests.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            self.write_batch(batch);
        }
    }

    fn write_batch(&mut self, batch: Vec<AppendRequest>) {
        if self.shared.failed.load(Ordering::Acquire) {
            for request in batch {
                let _ = request.reply.send(Err(SpoolError::Failed));
            }
            return;
        }
        let first_seq = self.shared.next_seq.load(Ordering::Acquire);
        let appended_ms = now_ms();
        let mut buf = Vec::new();
        let mut accepted = Vec::new();
        let mut on_disk = self.shared.bytes.load(Ordering::Acquire);
        for request in batch {
            if request.payload.len() > self.max_entry_bytes {
                let _ = request.reply.send(Err(SpoolError::TooLarge));
                continue;
            }
            let size = entry::encoded_len(request.payload.len()) as u64;
            if on_disk + size > self.shared.max_bytes {
                self.shared.full.store(true, Ordering::Release);
                let _ = request.reply.send(Err(SpoolError::Full));
                continue;
            }
            on_disk += size;
            let seq = first_seq + accepted.len() as u64;
            entry::encode(seq, appended_ms, &request.payload, &mut buf);
            accepted.push(request);
        }
        if accepted.is_empty() {
            return;
        }
        self.roll_if_drained(first_seq);
        let written = buf.len() as u64;
        match self.append(first_seq, &buf) {
            Ok(()) => {
                let end = first_seq + accepted.len() as u64;
                {
                    let mut originals = self.shared.lock_originals();
                    for (i, request) in accepted.iter().enumerate() {
                        if request.original_pending {
                            originals.insert(first_seq + i as u64, Original::Pending);
                        }
                    }
                }
                self.shared.bytes.fetch_add(written, Ordering::AcqRel);
                self.shared.next_seq.store(end, Ordering::Release);
                // Published last: the forwarder reads only below it.
                self.shared.durable_seq.store(end, Ordering::Release);
                self.shared.healthy.store(true, Ordering::Release);
                if written > 0 && on_disk + entry::encoded_len(0) as u64 <= self.shared.max_bytes {
                    self.shared.full.store(false, Ordering::Release);
                }
                self.shared.appended.notify_one();
                for (i, request) in accepted.into_iter().enumerate() {
                    let _ = request.reply.send(Ok(first_seq + i as u64));
                }
            }
            Err(error) => {
                tracing::error!(error = %orch_telemetry::error_chain(&error), records = accepted.len(), "Spool write failed; those events were answered 503.");
                self.shared.healthy.store(false, Ordering::Release);
                for request in accepted {
                    let _ = request.reply.send(Err(SpoolError::Io(error.kind())));
                }
            }
        }
    }

    /// When everything spooled so far is in Kafka, deletes every segment so
    /// the next append starts a new one. Otherwise the writer's segment,
    /// which the forwarder never deletes, would keep its forwarded entries
    /// until it reached the segment size: on a small or full disk, that space
    /// is what new events need.
    fn roll_if_drained(&mut self, next_seq: u64) {
        if self.shared.cursor.load(Ordering::Acquire) < next_seq
            || self.current.as_ref().is_some_and(|(_, len)| *len == 0)
        {
            return;
        }
        let Ok(all) = segments::list(&self.dir) else {
            return;
        };
        self.current = None;
        for segment in all {
            let len = std::fs::metadata(&segment.path).map_or(0, |m| m.len());
            match std::fs::remove_file(&segment.path) {
                Ok(()) => {
                    self.shared.bytes.fetch_sub(len, Ordering::AcqRel);
                }
                // The forwarder deleted it meanwhile.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(error = %orch_telemetry::error_chain(&error), path = %segment.path.display(), "Could not delete a forwarded spool segment; the forwarder deletes it later.");
                }
            }
        }
    }

    /// Writes and fsyncs `buf`, starting a new segment when the current one is
    /// full. On failure the segment is cut back to where it was, so the failed
    /// entries (answered 503) can never be forwarded; if even that fails the
    /// spool refuses all further appends until restarted.
    fn append(&mut self, first_seq: u64, buf: &[u8]) -> io::Result<()> {
        let needs_new = self
            .current
            .as_ref()
            .is_none_or(|(_, len)| *len >= self.segment_bytes);
        if needs_new {
            if let Some((file, _)) = self.current.take() {
                file.sync_all()?;
            }
            let path = segments::path_for(&self.dir, first_seq);
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            sync_dir(&self.dir)?;
            let len = file.metadata()?.len();
            self.current = Some((file, len));
        }
        let Some((file, len)) = self.current.as_mut() else {
            return Err(io::Error::other("no spool segment open"));
        };
        let result = file.write_all(buf).and_then(|()| file.sync_data());
        match result {
            Ok(()) => {
                *len += buf.len() as u64;
                Ok(())
            }
            Err(error) => {
                if file.set_len(*len).and_then(|()| file.sync_all()).is_err() {
                    self.shared.failed.store(true, Ordering::Release);
                    tracing::error!(
                        "Could not undo a failed spool write; the spool refuses appends until restarted."
                    );
                }
                Err(error)
            }
        }
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
