//! The archive loop: reads the DLQ, keeps one open object per partition,
//! closes it on size or age, and has it written — one write per partition
//! at a time, in offset order. Memory is bounded: a partition whose next
//! object is full while the previous one is still being written pauses, and
//! when everything held passes `ARCHIVER_MAX_BUFFERED_BYTES` every partition
//! pauses and the largest open object is written early.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rdkafka::TopicPartitionList;
use rdkafka::consumer::Consumer;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::batch::{Batch, Record};
use crate::context::ArchiveConsumer;
use crate::upload::{Uploader, Written};

/// When objects close and how much may be held.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rolls {
    pub(crate) bytes: u64,
    pub(crate) after: Duration,
    pub(crate) max_buffered: u64,
    pub(crate) shutdown_grace: Duration,
}

/// An object being written.
#[derive(Debug)]
struct Writing {
    bytes: u64,
    earliest: OffsetDateTime,
}

#[derive(Debug, Default)]
struct Partition {
    open: Option<(Batch, u64)>,
    writing: Option<Writing>,
}

/// A finished write: (partition, outcome).
type Done = (i32, Written);

struct Loop {
    topic: String,
    rolls: Rolls,
    uploader: Uploader,
    partitions: BTreeMap<i32, Partition>,
    paused: BTreeSet<i32>,
    done_tx: mpsc::UnboundedSender<Done>,
}

/// Archives until `shutdown`, then writes what is open (within the grace).
pub(crate) async fn run(
    topic: String,
    rolls: Rolls,
    uploader: Uploader,
    shutdown: CancellationToken,
) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let consumer = uploader.consumer.clone();
    let mut state = Loop {
        topic,
        rolls,
        uploader,
        partitions: BTreeMap::new(),
        paused: BTreeSet::new(),
        done_tx,
    };
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Pauses are looked at only when a limit may have moved: asking
        // librdkafka for the assignment on every record costs more than the
        // record itself.
        let limits_moved = tokio::select! {
            () = shutdown.cancelled() => break,
            message = consumer.recv() => match message {
                Ok(message) => state.take(Record::read(&state.topic, &message)),
                Err(error) => {
                    tracing::warn!(error = %orch_telemetry::error_chain(&error), "Consumer error; continuing.");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    false
                }
            },
            Some((partition, written)) = done_rx.recv() => {
                state.finished(partition, written);
                true
            }
            _ = tick.tick() => {
                state.roll_due(false);
                true
            }
        };
        if limits_moved {
            state.apply_pauses(&consumer);
        }
    }
    state.drain(&mut done_rx).await;
}

impl Loop {
    /// Adds a record to its partition's open object; true when a limit was
    /// reached (an object full, or memory).
    fn take(&mut self, record: Record) -> bool {
        let partition = record.partition;
        let Some(epoch) = self.uploader.ownership.epoch(partition) else {
            return false; // fetched before a revoke; the new owner reads it again
        };
        let slot = self.partitions.entry(partition).or_default();
        match &mut slot.open {
            Some((batch, open_epoch)) if *open_epoch == epoch => batch.push(record),
            _ => slot.open = Some((Batch::open(&self.topic, record), epoch)),
        }
        let full = slot
            .open
            .as_ref()
            .is_some_and(|(b, _)| b.uncompressed() >= self.rolls.bytes);
        if full {
            self.seal(partition);
        }
        let over_budget = self.held() >= self.rolls.max_buffered;
        if over_budget {
            self.seal_largest();
        }
        full || over_budget
    }

    fn finished(&mut self, partition: i32, written: Written) {
        if let Some(slot) = self.partitions.get_mut(&partition) {
            slot.writing = None;
        }
        if written == Written::Fenced {
            tracing::info!(
                partition,
                "Partition moved while its object was being written; the new owner writes it."
            );
        }
        self.roll_due(false);
    }

    /// Closes and writes each open object that is due (all of them with `force`),
    /// and forgets objects of partitions this replica no longer owns.
    fn roll_due(&mut self, force: bool) {
        let now = Instant::now();
        let mut due = Vec::new();
        for (partition, slot) in &mut self.partitions {
            if let Some((_, epoch)) = &slot.open
                && self.uploader.ownership.epoch(*partition) != Some(*epoch)
            {
                slot.open = None;
            }
            if let Some((batch, _)) = &slot.open
                && (force
                    || batch.uncompressed() >= self.rolls.bytes
                    || now.duration_since(batch.opened()) >= self.rolls.after)
            {
                due.push(*partition);
            }
        }
        for partition in due {
            self.seal(partition);
        }
        self.partitions
            .retain(|_, slot| slot.open.is_some() || slot.writing.is_some());
        self.report_lag();
    }

    /// Starts writing the partition's open object, unless one is being written.
    fn seal(&mut self, partition: i32) {
        let Some(slot) = self.partitions.get_mut(&partition) else {
            return;
        };
        if slot.writing.is_some() {
            return;
        }
        let Some((batch, epoch)) = slot.open.take() else {
            return;
        };
        let earliest = batch.earliest();
        let sealed = batch.seal();
        slot.writing = Some(Writing {
            bytes: sealed.data.len() as u64,
            earliest,
        });
        let (uploader, done) = (self.uploader.clone(), self.done_tx.clone());
        tokio::spawn(async move {
            let written = uploader.write(sealed, epoch).await;
            let _ = done.send((partition, written));
        });
    }

    fn seal_largest(&mut self) {
        let largest = self
            .partitions
            .iter()
            .filter(|(_, slot)| slot.writing.is_none())
            .filter_map(|(p, slot)| slot.open.as_ref().map(|(b, _)| (b.held(), *p)))
            .max();
        if let Some((_, partition)) = largest {
            self.seal(partition);
        }
    }

    fn held(&self) -> u64 {
        self.partitions
            .values()
            .map(|slot| {
                slot.open.as_ref().map_or(0, |(b, _)| b.held())
                    + slot.writing.as_ref().map_or(0, |w| w.bytes)
            })
            .sum()
    }

    fn report_lag(&self) {
        let earliest = self
            .partitions
            .values()
            .flat_map(|slot| {
                slot.open
                    .as_ref()
                    .map(|(b, _)| b.earliest())
                    .into_iter()
                    .chain(slot.writing.as_ref().map(|w| w.earliest))
            })
            .min();
        let lag = earliest.map_or(0.0, |at| {
            (OffsetDateTime::now_utc() - at).as_seconds_f64().max(0.0)
        });
        metrics::gauge!("orch_archiver_archive_lag_seconds").set(lag);
        metrics::gauge!("orch_archiver_buffered_bytes").set(self.held() as f64);
    }

    /// Pauses what must wait for memory and resumes what may go on.
    fn apply_pauses(&mut self, consumer: &ArchiveConsumer) {
        let over_budget = self.held() >= self.rolls.max_buffered;
        let assigned: Vec<i32> = consumer
            .assignment()
            .map(|list| list.elements().iter().map(|e| e.partition()).collect())
            .unwrap_or_default();
        let want: BTreeSet<i32> = assigned
            .into_iter()
            .filter(|p| {
                over_budget
                    || self.partitions.get(p).is_some_and(|slot| {
                        slot.writing.is_some()
                            && slot
                                .open
                                .as_ref()
                                .is_some_and(|(b, _)| b.uncompressed() >= self.rolls.bytes)
                    })
            })
            .collect();
        let list = |partitions: &mut dyn Iterator<Item = &i32>| {
            let mut tpl = TopicPartitionList::new();
            for p in partitions {
                tpl.add_partition(&self.topic, *p);
            }
            tpl
        };
        let pause = list(&mut want.difference(&self.paused));
        let resume = list(&mut self.paused.difference(&want));
        if pause.count() > 0
            && let Err(error) = consumer.pause(&pause)
        {
            tracing::debug!(error = %orch_telemetry::error_chain(&error), "Could not pause partitions.");
        }
        if resume.count() > 0
            && let Err(error) = consumer.resume(&resume)
        {
            tracing::debug!(error = %orch_telemetry::error_chain(&error), "Could not resume partitions.");
        }
        if pause.count() > 0 {
            metrics::counter!("orch_archiver_pauses_total").increment(1);
        }
        self.paused = want;
    }

    /// Writes every open object and waits for the writes, up to the grace.
    async fn drain(&mut self, done_rx: &mut mpsc::UnboundedReceiver<Done>) {
        let deadline = tokio::time::Instant::now() + self.rolls.shutdown_grace;
        self.roll_due(true);
        while !self.partitions.is_empty() {
            match tokio::time::timeout_at(deadline, done_rx.recv()).await {
                Ok(Some((partition, _written))) => {
                    if let Some(slot) = self.partitions.get_mut(&partition) {
                        slot.writing = None;
                    }
                    self.roll_due(true);
                }
                Ok(None) | Err(_) => {
                    tracing::warn!(
                        open = self.partitions.len(),
                        "Shutdown grace over with objects unwritten; the next owner re-reads them from the last commit."
                    );
                    return;
                }
            }
        }
        tracing::info!("Every open object written.");
    }
}
