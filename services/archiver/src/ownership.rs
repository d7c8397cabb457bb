//! Which partitions this replica owns, and the fence that keeps a replica
//! from writing a partition it no longer owns.
//!
//! Each assignment of a partition gets a new epoch. A write checks its
//! epoch and marks the partition busy in one step, so once a revoke has
//! removed the epoch no new write starts; the revoke then waits (bounded)
//! for the write already under way. Without that, a slow write landing after
//! the new owner wrote the same object could overwrite it with a different
//! range of offsets, and records would be archived twice.

use parking_lot::{Condvar, Mutex};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct State {
    epochs: HashMap<i32, u64>,
    busy: HashMap<i32, usize>,
    next_epoch: u64,
}

/// Partition ownership shared by the consumer's hooks and the writers.
#[derive(Debug, Default)]
pub(crate) struct Ownership {
    state: Mutex<State>,
    idle: Condvar,
}

/// A write's hold on its partition; released when dropped.
#[derive(Debug)]
pub(crate) struct Hold<'a> {
    ownership: &'a Ownership,
    partition: i32,
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        let mut state = self.ownership.lock();
        if let Some(count) = state.busy.get_mut(&self.partition) {
            *count -= 1;
            if *count == 0 {
                state.busy.remove(&self.partition);
            }
        }
        self.ownership.idle.notify_all();
    }
}

impl Ownership {
    fn lock(&self) -> parking_lot::MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Records newly assigned partitions; each gets a fresh epoch.
    pub(crate) fn assign(&self, partitions: impl IntoIterator<Item = i32>) {
        let mut state = self.lock();
        for partition in partitions {
            state.next_epoch += 1;
            let epoch = state.next_epoch;
            state.epochs.insert(partition, epoch);
        }
    }

    /// The partition's current epoch, if this replica owns it.
    pub(crate) fn epoch(&self, partition: i32) -> Option<u64> {
        self.lock().epochs.get(&partition).copied()
    }

    /// Marks the partition busy if it is still owned under `epoch`.
    pub(crate) fn hold(&self, partition: i32, epoch: u64) -> Option<Hold<'_>> {
        let mut state = self.lock();
        if state.epochs.get(&partition) != Some(&epoch) {
            return None;
        }
        *state.busy.entry(partition).or_default() += 1;
        Some(Hold {
            ownership: self,
            partition,
        })
    }

    /// Forgets revoked partitions, then waits up to `wait` for their writes
    /// under way; returns the partitions still busy when it gave up.
    pub(crate) fn revoke(&self, partitions: &[i32], wait: Duration) -> Vec<i32> {
        let deadline = Instant::now() + wait;
        let mut state = self.lock();
        for partition in partitions {
            state.epochs.remove(partition);
        }
        loop {
            let busy: Vec<i32> = partitions
                .iter()
                .copied()
                .filter(|p| state.busy.contains_key(p))
                .collect();
            let left = deadline.saturating_duration_since(Instant::now());
            if busy.is_empty() || left.is_zero() {
                return busy;
            }
            self.idle.wait_for(&mut state, left);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn a_revoked_partition_cannot_be_held_and_a_reassigned_one_needs_the_new_epoch() {
        let ownership = Ownership::default();
        ownership.assign([0, 1]);
        let old = ownership.epoch(0).unwrap();
        assert!(ownership.revoke(&[0], Duration::ZERO).is_empty());
        assert!(ownership.hold(0, old).is_none());
        ownership.assign([0]);
        assert!(ownership.hold(0, old).is_none());
        assert!(ownership.hold(0, ownership.epoch(0).unwrap()).is_some());
    }

    #[test]
    fn revoke_waits_for_the_write_under_way() {
        let ownership = Arc::new(Ownership::default());
        ownership.assign([3]);
        let epoch = ownership.epoch(3).unwrap();
        let (held, release) = std::sync::mpsc::channel();
        let writer = {
            let ownership = ownership.clone();
            std::thread::spawn(move || {
                let _hold = ownership.hold(3, epoch).unwrap();
                held.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(200));
            })
        };
        release.recv().unwrap();
        let started = Instant::now();
        assert!(ownership.revoke(&[3], Duration::from_secs(10)).is_empty());
        assert!(started.elapsed() >= Duration::from_millis(100));
        writer.join().unwrap();
        // A write that outlives the wait is reported, not waited for forever.
        ownership.assign([4]);
        let _stuck = ownership.hold(4, ownership.epoch(4).unwrap()).unwrap();
        assert_eq!(ownership.revoke(&[4], Duration::from_millis(50)), vec![4]);
    }
}
