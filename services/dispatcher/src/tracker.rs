//! Which offsets are in flight on each assigned partition, and so which offset
//! may be committed: the lowest one not yet finished. Events finish out of
//! order (a retrying one stays while later ones are delivered). The window is
//! the span from the commit point to the newest offset taken, finished or
//! not, so a crash redelivers at most one window per partition.

use parking_lot::Mutex;
use std::collections::{BTreeSet, HashMap};

use tokio_util::sync::CancellationToken;

/// One assigned partition.
#[derive(Debug)]
struct Partition {
    in_flight: BTreeSet<i64>,
    highest_seen: Option<i64>,
    /// Everything below this is finished and stored for commit.
    committed_up_to: i64,
    /// Cancelled when the partition is revoked, abandoning its in-flight work.
    cancel: CancellationToken,
    /// Tells completions of an earlier assignment of the same partition apart.
    epoch: u64,
    paused: bool,
}

/// What the poll loop should do after an event was taken.
#[derive(Debug)]
pub(crate) struct Started {
    pub(crate) cancel: CancellationToken,
    pub(crate) epoch: u64,
    /// The partition's window is full: pause fetching it.
    pub(crate) pause: bool,
}

/// What the poll loop should do after an event finished.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Finished {
    /// Store this as the partition's next offset to commit.
    pub(crate) commit: Option<i64>,
    /// The window has room again: resume fetching, from this offset.
    pub(crate) resume_at: Option<i64>,
}

/// Every assigned partition's window.
#[derive(Debug)]
pub(crate) struct Tracker {
    partitions: HashMap<i32, Partition>,
    max_in_flight: usize,
    next_epoch: u64,
}

impl Tracker {
    pub(crate) fn new(max_in_flight: usize) -> Self {
        Self {
            partitions: HashMap::new(),
            max_in_flight: max_in_flight.max(1),
            next_epoch: 0,
        }
    }

    /// A partition was assigned.
    pub(crate) fn assign(&mut self, partition: i32) {
        self.next_epoch += 1;
        self.partitions.insert(
            partition,
            Partition {
                in_flight: BTreeSet::new(),
                highest_seen: None,
                committed_up_to: -1,
                cancel: CancellationToken::new(),
                epoch: self.next_epoch,
                paused: false,
            },
        );
    }

    /// A partition was revoked: its in-flight work is abandoned (not committed,
    /// so the new owner redelivers it).
    pub(crate) fn revoke(&mut self, partition: i32) -> usize {
        match self.partitions.remove(&partition) {
            Some(state) => {
                state.cancel.cancel();
                state.in_flight.len()
            }
            None => 0,
        }
    }

    /// Every assigned partition.
    pub(crate) fn assigned(&self) -> Vec<i32> {
        self.partitions.keys().copied().collect()
    }

    /// An event at `offset` was taken; None if its partition is not ours.
    pub(crate) fn start(&mut self, partition: i32, offset: i64) -> Option<Started> {
        let max = self.max_in_flight;
        let state = self.partitions.get_mut(&partition)?;
        state.in_flight.insert(offset);
        if state.highest_seen.is_none() {
            // The group's committed offset: everything below it is done.
            state.committed_up_to = offset;
        }
        state.highest_seen = Some(state.highest_seen.map_or(offset, |h| h.max(offset)));
        let span = state
            .highest_seen
            .map_or(0, |h| h - state.committed_up_to + 1);
        let pause = !state.paused && span >= max as i64;
        state.paused |= pause;
        Some(Started {
            cancel: state.cancel.clone(),
            epoch: state.epoch,
            pause,
        })
    }

    /// The event at `offset` reached a durable outcome.
    pub(crate) fn finish(&mut self, partition: i32, offset: i64, epoch: u64) -> Finished {
        let max = self.max_in_flight;
        let Some(state) = self
            .partitions
            .get_mut(&partition)
            .filter(|s| s.epoch == epoch)
        else {
            return Finished::default();
        };
        state.in_flight.remove(&offset);
        let next = match state.in_flight.first() {
            Some(lowest) => *lowest,
            None => state.highest_seen.map_or(0, |h| h + 1),
        };
        let commit = (next > state.committed_up_to).then(|| {
            state.committed_up_to = next;
            next
        });
        let span = state
            .highest_seen
            .map_or(0, |h| h - state.committed_up_to + 1);
        let resume = state.paused && span <= (max / 2) as i64;
        state.paused &= !resume;
        let resume_at = resume.then(|| state.highest_seen.map_or(0, |h| h + 1));
        Finished { commit, resume_at }
    }

    /// Events in flight, over all partitions.
    pub(crate) fn in_flight(&self) -> usize {
        self.partitions.values().map(|s| s.in_flight.len()).sum()
    }

    /// Abandons everything in flight (end of the shutdown grace period).
    pub(crate) fn cancel_all(&self) {
        for state in self.partitions.values() {
            state.cancel.cancel();
        }
    }
}

/// The tracker, shared by the poll loop and the rebalance hooks; its lock
/// is held only inside these calls, never across an await.
#[derive(Debug)]
pub(crate) struct SharedTracker(Mutex<Tracker>);

impl SharedTracker {
    pub(crate) fn new(max_in_flight: usize) -> Self {
        Self(Mutex::new(Tracker::new(max_in_flight)))
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, Tracker> {
        self.0.lock()
    }

    pub(crate) fn assign(&self, partitions: impl IntoIterator<Item = i32>) {
        let mut tracker = self.lock();
        for partition in partitions {
            tracker.assign(partition);
        }
    }

    /// Revokes `partitions`; returns how many in-flight events were abandoned.
    pub(crate) fn revoke(&self, partitions: impl IntoIterator<Item = i32>) -> usize {
        let mut tracker = self.lock();
        partitions
            .into_iter()
            .map(|partition| tracker.revoke(partition))
            .sum()
    }

    pub(crate) fn assigned(&self) -> Vec<i32> {
        self.lock().assigned()
    }

    pub(crate) fn start(&self, partition: i32, offset: i64) -> Option<Started> {
        self.lock().start(partition, offset)
    }

    pub(crate) fn finish(&self, partition: i32, offset: i64, epoch: u64) -> Finished {
        self.lock().finish(partition, offset, epoch)
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.lock().in_flight()
    }

    pub(crate) fn cancel_all(&self) {
        self.lock().cancel_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_up_to_the_lowest_unfinished_offset() {
        let mut tracker = Tracker::new(10);
        tracker.assign(0);
        let epoch = tracker.start(0, 5).unwrap().epoch;
        for offset in 6..=8 {
            tracker.start(0, offset).unwrap();
        }
        // 6 and 7 finish while 5 is still retrying: nothing can be committed.
        assert_eq!(tracker.finish(0, 6, epoch).commit, None);
        assert_eq!(tracker.finish(0, 7, epoch).commit, None);
        // 5 finishes: everything up to 8 (still in flight) is done.
        assert_eq!(tracker.finish(0, 5, epoch).commit, Some(8));
        assert_eq!(tracker.finish(0, 8, epoch).commit, Some(9));
    }

    #[test]
    fn the_window_spans_from_the_commit_point_and_a_stuck_event_fills_it() {
        let mut tracker = Tracker::new(4);
        tracker.assign(1);
        let pauses: Vec<bool> = (0..4).map(|o| tracker.start(1, o).unwrap().pause).collect();
        assert_eq!(pauses, [false, false, false, true]);
        // 1..3 finish but 0 is still retrying: nothing is committed, the
        // window stays full.
        let epoch = tracker.start(1, 4).unwrap().epoch;
        for offset in 1..=3 {
            assert_eq!(tracker.finish(1, offset, epoch), Finished::default());
        }
        // 0 finishes: committed up to 4 (still in flight), one event in the window.
        assert_eq!(
            tracker.finish(1, 0, epoch),
            Finished {
                commit: Some(4),
                resume_at: Some(5)
            }
        );
    }

    #[test]
    fn revoking_cancels_work_and_ignores_its_late_completions() {
        let mut tracker = Tracker::new(4);
        tracker.assign(2);
        let started = tracker.start(2, 10).unwrap();
        assert_eq!(tracker.revoke(2), 1);
        assert!(started.cancel.is_cancelled());
        assert_eq!(
            tracker.start(2, 11).map(|s| s.epoch),
            None,
            "not ours any more"
        );
        tracker.assign(2);
        // A completion from the old assignment changes nothing.
        assert_eq!(tracker.finish(2, 10, started.epoch), Finished::default());
    }
}
