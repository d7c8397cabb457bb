use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// An item as the target stores it.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
pub(crate) struct Item {
    pub(crate) id: async_graphql::ID,
    pub(crate) name: String,
    pub(crate) body: String,
    pub(crate) timestamp: i32,
    pub(crate) brand: String,
}

/// The counters a test reads to judge the pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Stats {
    /// HTTP requests to `/graphql`.
    pub requests: u64,
    /// `createItem` calls that stored a new item.
    pub accepted: u64,
    /// Distinct ids held.
    pub unique_ids: u64,
    /// `createItem` calls for an id already held (answered with the stored item).
    pub duplicates: u64,
    /// Requests refused by the rate limit.
    pub rate_limited: u64,
}

/// Items and counters; a mutex suffices at the rates a sandbox sees.
#[derive(Debug, Default)]
pub(crate) struct Store {
    items: Mutex<HashMap<String, Item>>,
    requests: AtomicU64,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    rate_limited: AtomicU64,
}

impl Store {
    /// Stores `item` unless its id is held; returns the stored item either way.
    pub(crate) fn create(&self, item: Item) -> Item {
        let mut items = self
            .items
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(existing) = items.get(item.id.as_str()) {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return existing.clone();
        }
        self.accepted.fetch_add(1, Ordering::Relaxed);
        items.insert(item.id.to_string(), item.clone());
        item
    }

    pub(crate) fn get(&self, id: &str) -> Option<Item> {
        self.items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    pub(crate) fn all(&self) -> Vec<Item> {
        let mut items: Vec<Item> = self
            .items
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        items.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        items
    }

    pub(crate) fn clear(&self) {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            requests: self.requests.load(Ordering::Relaxed),
            accepted: self.accepted.load(Ordering::Relaxed),
            unique_ids: self.items.lock().unwrap_or_else(|p| p.into_inner()).len() as u64,
            duplicates: self.duplicates.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
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
        let store = Store::default();
        store.create(item("e1", "first"));
        let again = store.create(item("e1", "second"));
        assert_eq!(again.name, "first");
        let stats = store.stats();
        assert_eq!(
            (stats.accepted, stats.duplicates, stats.unique_ids),
            (1, 1, 1)
        );
    }
}
