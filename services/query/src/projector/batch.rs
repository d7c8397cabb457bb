use std::collections::HashMap;

use orch_contracts::{RawEventRecord, StatusRecord, Topics};

/// Records decoded from one poll window, ready to be written together.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) raw: Vec<RawEventRecord>,
    pub(crate) statuses: Vec<StatusRecord>,
}

/// Why a record was skipped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("record on {topic} is not valid JSON for its schema: {source}")]
    Invalid {
        topic: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("record on unexpected topic {0}")]
    UnknownTopic(String),
}

impl Batch {
    /// Adds one record, routed by topic.
    pub(crate) fn push(
        &mut self,
        topics: &Topics,
        topic: &str,
        payload: &[u8],
    ) -> Result<(), DecodeError> {
        let invalid = |source| DecodeError::Invalid {
            topic: topic.to_owned(),
            source,
        };
        if topic == topics.raw {
            self.raw
                .push(serde_json::from_slice(payload).map_err(invalid)?);
        } else if topic == topics.status {
            self.statuses
                .push(serde_json::from_slice(payload).map_err(invalid)?);
        } else {
            return Err(DecodeError::UnknownTopic(topic.to_owned()));
        }
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.raw.is_empty() && self.statuses.is_empty()
    }

    /// One raw record per id (the newest generation): a single upsert may not
    /// touch the same row twice.
    pub(crate) fn latest_raw(&self) -> Vec<&RawEventRecord> {
        let mut latest: HashMap<&str, &RawEventRecord> = HashMap::new();
        for record in &self.raw {
            latest
                .entry(record.id.as_str())
                .and_modify(|kept| {
                    if (record.generation, record.received_at) > (kept.generation, kept.received_at)
                    {
                        *kept = record;
                    }
                })
                .or_insert(record);
        }
        latest.into_values().collect()
    }

    /// One status per id: the furthest along by (generation, rank, attempt),
    /// the same order the database enforces.
    pub(crate) fn furthest_statuses(&self) -> Vec<&StatusRecord> {
        let order = |s: &StatusRecord| (s.generation, s.status.rank(), s.attempt);
        let mut furthest: HashMap<&str, &StatusRecord> = HashMap::new();
        for record in &self.statuses {
            furthest
                .entry(record.id.as_str())
                .and_modify(|kept| {
                    if order(record) > order(kept) {
                        *kept = record;
                    }
                })
                .or_insert(record);
        }
        furthest.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orch_contracts::Status;

    fn status(id: &str, status: Status, attempt: u32, generation: u32) -> StatusRecord {
        StatusRecord::new(id, status, attempt, "t", generation)
    }

    #[test]
    fn keeps_the_furthest_status_per_id_whatever_the_arrival_order() {
        let batch = Batch {
            statuses: vec![
                status("a", Status::Delivered, 2, 0),
                status("a", Status::Retrying, 1, 0),
                status("b", Status::DeadLettered, 3, 0),
                status("b", Status::Retrying, 1, 1),
            ],
            ..Batch::default()
        };
        let mut furthest: Vec<(String, Status)> = batch
            .furthest_statuses()
            .into_iter()
            .map(|s| (s.id.clone(), s.status))
            .collect();
        furthest.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(
            furthest,
            [
                ("a".to_owned(), Status::Delivered),
                ("b".to_owned(), Status::Retrying)
            ]
        );
    }

    #[test]
    fn routes_by_topic_and_rejects_garbage() {
        let topics = Topics::with_prefix("");
        let mut batch = Batch::default();
        let record = orch_contracts::to_json(&status("a", Status::Delivered, 1, 0));
        batch.push(&topics, "events.status", &record).unwrap();
        assert_eq!(batch.statuses.len(), 1);
        assert!(batch.push(&topics, "events.raw", b"{not json").is_err());
        assert!(batch.push(&topics, "elsewhere", &record).is_err());
    }
}
