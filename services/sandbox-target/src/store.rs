use parking_lot::Mutex;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::window::SlidingWindow;

/// An item as the target stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, async_graphql::SimpleObject)]
pub(crate) struct Item {
    pub(crate) id: async_graphql::ID,
    pub(crate) name: String,
    pub(crate) body: String,
    pub(crate) timestamp: i32,
    pub(crate) brand: String,
}

/// The counters a test reads to judge the pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// HTTP requests to `/graphql`.
    pub requests: u64,
    /// `createItem` calls that stored a new item.
    pub accepted: u64,
    /// Distinct ids held.
    pub unique_ids: u64,
    /// `createItem` calls for an id already held (answered with the stored item).
    pub duplicates: u64,
    /// Requests refused by the target's own rate limit (not the injected 429s).
    pub rate_limited: u64,
    /// Injected 429s.
    pub injected_rate_limited: u64,
    /// Injected 503s, including down windows answering 503.
    pub injected_server_errors: u64,
    /// Down-window answers with a status other than 503 (`down_status`).
    #[serde(default)]
    pub injected_status: u64,
    /// Hostile answers (`hostile`).
    #[serde(default)]
    pub injected_hostile: u64,
    /// Injected timeouts.
    pub injected_timeouts: u64,
    /// 400s for poison ids.
    pub rejected: u64,
    /// Most requests admitted by the rate limit in any sliding window.
    pub max_in_window: u64,
    /// That window's length, in ms.
    pub window_ms: u64,
    /// When the busiest window began, in ms after the first admission.
    pub max_window_began_ms: u64,
}

/// Which counter a request outcome adds to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    Requests,
    RateLimited,
    InjectedRateLimited,
    InjectedServerErrors,
    InjectedStatus,
    InjectedHostile,
    InjectedTimeouts,
    Rejected,
}

/// How many `Counter`s there are.
const COUNTERS: usize = 8;

/// Items, counters, and (optionally) a JSON-lines file the items persist in.
#[derive(Debug)]
pub(crate) struct Store {
    items: Mutex<HashMap<String, Item>>,
    file: Option<(PathBuf, Mutex<File>)>,
    window: Mutex<SlidingWindow>,
    window_ms: u64,
    counters: [AtomicU64; COUNTERS],
    accepted: AtomicU64,
    duplicates: AtomicU64,
}

impl Store {
    /// A store holding the items in `file` (if any), appending new ones to it.
    pub(crate) fn open(file: Option<&Path>, window: Duration) -> std::io::Result<Self> {
        let mut items = HashMap::new();
        let file = match file {
            None => None,
            Some(path) => {
                if let Ok(existing) = File::open(path) {
                    for line in BufReader::new(existing).lines() {
                        if let Ok(item) = serde_json::from_str::<Item>(&line?) {
                            items.insert(item.id.to_string(), item);
                        }
                    }
                }
                let handle = OpenOptions::new().create(true).append(true).open(path)?;
                Some((path.to_owned(), Mutex::new(handle)))
            }
        };
        Ok(Self {
            items: Mutex::new(items),
            file,
            window: Mutex::new(SlidingWindow::new(window)),
            window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
            counters: Default::default(),
            accepted: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
        })
    }

    /// Stores `item` unless its id is held; returns the stored item either way.
    pub(crate) fn create(&self, item: Item) -> Item {
        let mut items = self.items.lock();
        if let Some(existing) = items.get(item.id.as_str()) {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return existing.clone();
        }
        if let Some((path, file)) = &self.file {
            let line = serde_json::to_string(&item).unwrap_or_default();
            let mut file = file.lock();
            if let Err(error) = writeln!(file, "{line}") {
                tracing::error!(path = %path.display(), error = %orch_telemetry::error_chain(&error), "Could not persist an item.");
            }
        }
        self.accepted.fetch_add(1, Ordering::Relaxed);
        items.insert(item.id.to_string(), item.clone());
        item
    }

    pub(crate) fn get(&self, id: &str) -> Option<Item> {
        self.items.lock().get(id).cloned()
    }

    pub(crate) fn all(&self) -> Vec<Item> {
        let mut items: Vec<Item> = self.items.lock().values().cloned().collect();
        items.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        items
    }

    /// Deletes every item, in memory and in the file.
    pub(crate) fn clear(&self) {
        let mut items = self.items.lock();
        items.clear();
        if let Some((path, file)) = &self.file {
            let file = file.lock();
            if let Err(error) = file.set_len(0) {
                tracing::error!(path = %path.display(), error = %orch_telemetry::error_chain(&error), "Could not clear the items file.");
            }
        }
    }

    pub(crate) fn count(&self, counter: Counter) {
        self.counters[counter as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request the rate limit let through.
    pub(crate) fn admit(&self) {
        self.window.lock().admit(Instant::now());
    }

    /// Starts the busiest-window count afresh.
    pub(crate) fn reset_window(&self) {
        self.window.lock().reset_max();
    }

    pub(crate) fn stats(&self) -> Stats {
        let counter = |c: Counter| self.counters[c as usize].load(Ordering::Relaxed);
        let window = self.window.lock();
        Stats {
            requests: counter(Counter::Requests),
            accepted: self.accepted.load(Ordering::Relaxed),
            unique_ids: self.items.lock().len() as u64,
            duplicates: self.duplicates.load(Ordering::Relaxed),
            rate_limited: counter(Counter::RateLimited),
            injected_rate_limited: counter(Counter::InjectedRateLimited),
            injected_server_errors: counter(Counter::InjectedServerErrors),
            injected_status: counter(Counter::InjectedStatus),
            injected_hostile: counter(Counter::InjectedHostile),
            injected_timeouts: counter(Counter::InjectedTimeouts),
            rejected: counter(Counter::Rejected),
            max_in_window: window.max(),
            window_ms: self.window_ms,
            max_window_began_ms: u64::try_from(window.max_began_after().as_millis())
                .unwrap_or(u64::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, name: &str) -> Item {
        Item {
            id: id.into(),
            name: name.into(),
            body: "b".into(),
            timestamp: 1,
            brand: "testBrand".into(),
        }
    }

    #[test]
    fn a_second_create_keeps_the_first_item_and_counts_a_duplicate() {
        let store = Store::open(None, Duration::from_secs(1)).unwrap();
        store.create(item("e1", "first"));
        let again = store.create(item("e1", "second"));
        assert_eq!(again.name, "first");
        let stats = store.stats();
        assert_eq!(
            (stats.accepted, stats.duplicates, stats.unique_ids),
            (1, 1, 1)
        );
    }

    #[test]
    fn items_persist_across_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items.jsonl");
        let store = Store::open(Some(&path), Duration::from_secs(1)).unwrap();
        store.create(item("e1", "kept"));
        drop(store);
        let reopened = Store::open(Some(&path), Duration::from_secs(1)).unwrap();
        assert_eq!(reopened.get("e1").unwrap().name, "kept");
        reopened.create(item("e1", "again"));
        assert_eq!(reopened.stats().duplicates, 1);
    }
}
