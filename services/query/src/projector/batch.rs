use std::borrow::Cow;
use std::collections::HashMap;

use orch_contracts::{RawEventRecord, StatusRecord, Topics};
use time::OffsetDateTime;

/// Postgres text and jsonb cannot hold U+0000, and one record carrying it
/// (a hostile target's error message, an old record replayed) would stall the
/// projection: each JSON escape `\u0000` is read as U+FFFD instead. The
/// replacement has the same length, so the bytes are patched in place.
fn without_nul_escapes(payload: &[u8]) -> Cow<'_, [u8]> {
    const NUL: &[u8] = b"\\u0000";
    let escaped_at = |i: usize| {
        // An escape only if preceded by an even run of backslashes.
        payload[..i]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count()
            % 2
            == 0
    };
    // On the projection's hot path: a SIMD search, and nothing allocated for
    // the records (nearly all) that hold no such escape.
    let hits: Vec<usize> = memchr::memmem::find_iter(payload, NUL)
        .filter(|&i| escaped_at(i))
        .collect();
    if hits.is_empty() {
        return Cow::Borrowed(payload);
    }
    let mut patched = payload.to_vec();
    for i in hits {
        patched[i..i + NUL.len()].copy_from_slice(b"\\ufffd");
    }
    Cow::Owned(patched)
}

/// Where a record was read, so a quarantined one can be found in Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
}

/// A record that did not decode: kept whole for the quarantine table.
#[derive(Debug)]
pub(crate) struct Unreadable {
    pub(crate) origin: Origin,
    pub(crate) payload: Vec<u8>,
    pub(crate) error: String,
}

/// Records decoded from one poll window, ready to be written together, with
/// where each was read (`*_origins` run parallel to the records).
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) raw: Vec<RawEventRecord>,
    pub(crate) raw_origins: Vec<Origin>,
    pub(crate) statuses: Vec<StatusRecord>,
    pub(crate) status_origins: Vec<Origin>,
    /// Records that did not decode; the write quarantines them.
    pub(crate) unreadable: Vec<Unreadable>,
}

/// A batch split in two, or the one record it held.
#[derive(Debug)]
pub(crate) enum Split {
    Halves(Batch, Batch),
    One(Single),
    Empty,
}

/// One record on its own, split out of a batch that Postgres refused.
#[derive(Debug)]
pub(crate) enum Single {
    Raw(Origin, Box<RawEventRecord>),
    Status(Origin, Box<StatusRecord>),
    Unreadable(Unreadable),
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
    /// Adds one record, routed by topic. One that does not decode is kept
    /// for quarantine, and the error returned for the log.
    pub(crate) fn push(
        &mut self,
        topics: &Topics,
        origin: Origin,
        payload: &[u8],
    ) -> Result<(), DecodeError> {
        let decoded = self.decode(topics, &origin, payload);
        if let Err(error) = &decoded {
            self.unreadable.push(Unreadable {
                origin,
                payload: payload.to_vec(),
                error: error.to_string(),
            });
        }
        decoded
    }

    fn decode(
        &mut self,
        topics: &Topics,
        origin: &Origin,
        payload: &[u8],
    ) -> Result<(), DecodeError> {
        let payload = &*without_nul_escapes(payload);
        let topic = origin.topic.as_str();
        let invalid = |source| DecodeError::Invalid {
            topic: topic.to_owned(),
            source,
        };
        if topic == topics.raw {
            self.raw
                .push(serde_json::from_slice(payload).map_err(invalid)?);
            self.raw_origins.push(origin.clone());
        } else if topic == topics.status {
            self.statuses
                .push(serde_json::from_slice(payload).map_err(invalid)?);
            self.status_origins.push(origin.clone());
        } else {
            return Err(DecodeError::UnknownTopic(topic.to_owned()));
        }
        Ok(())
    }

    /// Records in the batch, unreadable ones included.
    pub(crate) fn len(&self) -> usize {
        self.raw.len() + self.statuses.len() + self.unreadable.len()
    }

    /// Two halves of the batch, or its one record when that is all it holds.
    pub(crate) fn split(mut self) -> Split {
        if self.len() <= 1 {
            return self.into_single().map_or(Split::Empty, Split::One);
        }
        let mut wanted = self.len() / 2;
        let mut other = Batch::default();
        let tail = |len: usize, wanted: &mut usize| {
            let taken = (*wanted).min(len);
            *wanted -= taken;
            len - taken
        };
        let at = tail(self.unreadable.len(), &mut wanted);
        other.unreadable = self.unreadable.split_off(at);
        let at = tail(self.statuses.len(), &mut wanted);
        other.statuses = self.statuses.split_off(at);
        other.status_origins = self
            .status_origins
            .split_off(at.min(self.status_origins.len()));
        let at = tail(self.raw.len(), &mut wanted);
        other.raw = self.raw.split_off(at);
        other.raw_origins = self.raw_origins.split_off(at.min(self.raw_origins.len()));
        Split::Halves(self, other)
    }

    fn into_single(mut self) -> Option<Single> {
        // Origins are always pushed with their records; a batch built by
        // hand (in tests) may lack them.
        let unknown = || Origin {
            topic: String::new(),
            partition: -1,
            offset: -1,
        };
        if let Some(unreadable) = self.unreadable.pop() {
            return Some(Single::Unreadable(unreadable));
        }
        if let Some(record) = self.statuses.pop() {
            let origin = self.status_origins.pop().unwrap_or_else(unknown);
            return Some(Single::Status(origin, Box::new(record)));
        }
        let record = self.raw.pop()?;
        let origin = self.raw_origins.pop().unwrap_or_else(unknown);
        Some(Single::Raw(origin, Box::new(record)))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each id's raw records folded into one row: a single upsert may not
    /// touch the same row twice.
    pub(crate) fn raw_by_id(&self) -> Vec<RawFold<'_>> {
        let mut folds: HashMap<&str, RawFold<'_>> = HashMap::new();
        for record in &self.raw {
            folds
                .entry(record.id.as_str())
                .and_modify(|fold| fold.add(record))
                .or_insert_with(|| RawFold::new(record));
        }
        folds.into_values().collect()
    }

    /// Each id's status records folded into one row, by the same rules the
    /// upsert applies between batches.
    pub(crate) fn statuses_by_id(&self) -> Vec<StatusFold<'_>> {
        let mut folds: HashMap<&str, StatusFold<'_>> = HashMap::new();
        for record in &self.statuses {
            folds
                .entry(record.id.as_str())
                .and_modify(|fold| fold.add(record))
                .or_insert_with(|| StatusFold::new(record));
        }
        folds.into_values().collect()
    }
}

/// Where a status record stands: later generations first, then rank, then
/// attempt. Ties keep the record seen first, as the upsert's strict `>` does.
pub(crate) fn order(status: &StatusRecord) -> (u32, i16, u32) {
    (status.generation, status.status.rank(), status.attempt)
}

/// What one batch says about one event's raw side. Every part is a maximum or
/// a minimum, so the result does not depend on how records were batched.
#[derive(Debug)]
pub(crate) struct RawFold<'a> {
    /// The newest raw record, which supplies the event's fields.
    pub(crate) newest: &'a RawEventRecord,
    /// The first acceptance.
    pub(crate) first_accepted_at: OffsetDateTime,
    /// The latest generation seen.
    pub(crate) generation: u32,
    /// The first acceptance within that generation.
    pub(crate) generation_accepted_at: OffsetDateTime,
}

impl<'a> RawFold<'a> {
    fn new(record: &'a RawEventRecord) -> Self {
        Self {
            newest: record,
            first_accepted_at: record.received_at,
            generation: record.generation,
            generation_accepted_at: record.received_at,
        }
    }

    fn add(&mut self, record: &'a RawEventRecord) {
        if record.received_at > self.newest.received_at {
            self.newest = record;
        }
        self.first_accepted_at = self.first_accepted_at.min(record.received_at);
        if record.generation > self.generation {
            self.generation = record.generation;
            self.generation_accepted_at = record.received_at;
        } else if record.generation == self.generation {
            self.generation_accepted_at = self.generation_accepted_at.min(record.received_at);
        }
    }
}

/// What one batch says about one event's status side.
#[derive(Debug)]
pub(crate) struct StatusFold<'a> {
    /// The furthest status.
    pub(crate) furthest: &'a StatusRecord,
    /// The furthest status that carried an HTTP status.
    pub(crate) last_http: Option<&'a StatusRecord>,
    /// The furthest status that carried an error.
    pub(crate) last_error: Option<&'a StatusRecord>,
    /// The newest `at` of any of them.
    pub(crate) newest_at: OffsetDateTime,
}

impl<'a> StatusFold<'a> {
    fn new(record: &'a StatusRecord) -> Self {
        Self {
            furthest: record,
            last_http: record.http_status.map(|_| record),
            last_error: record.error_kind.map(|_| record),
            newest_at: record.at,
        }
    }

    fn add(&mut self, record: &'a StatusRecord) {
        let further = |kept: Option<&StatusRecord>| kept.is_none_or(|k| order(record) > order(k));
        if order(record) > order(self.furthest) {
            self.furthest = record;
        }
        if record.http_status.is_some() && further(self.last_http) {
            self.last_http = Some(record);
        }
        if record.error_kind.is_some() && further(self.last_error) {
            self.last_error = Some(record);
        }
        self.newest_at = self.newest_at.max(record.at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orch_contracts::{ErrorKind, Status};

    fn status(id: &str, status: Status, attempt: u32, generation: u32) -> StatusRecord {
        StatusRecord::new(
            &orch_contracts::EventId::parse(id).unwrap(),
            status,
            attempt,
            "t",
            generation,
        )
    }

    #[test]
    fn keeps_the_furthest_status_per_id_whatever_the_arrival_order() {
        let failed = StatusRecord {
            http_status: Some(503),
            error_kind: Some(ErrorKind::ServerError),
            ..status("a", Status::Retrying, 1, 0)
        };
        let delivered = StatusRecord {
            http_status: Some(200),
            ..status("a", Status::Delivered, 2, 0)
        };
        let orders = [
            vec![failed.clone(), delivered.clone()],
            vec![delivered.clone(), failed.clone()],
        ];
        for statuses in orders {
            let batch = Batch {
                statuses,
                ..Batch::default()
            };
            let folds = batch.statuses_by_id();
            let [fold] = folds.as_slice() else {
                panic!("one id, one fold: {folds:?}")
            };
            assert_eq!(fold.furthest.status, Status::Delivered);
            assert_eq!(fold.last_http.and_then(|s| s.http_status), Some(200));
            assert_eq!(fold.last_error.and_then(|s| s.http_status), Some(503));
        }
    }

    #[test]
    fn splitting_halves_until_each_record_stands_alone_and_loses_none() {
        let topics = Topics::with_prefix("t.");
        let mut batch = Batch::default();
        for offset in 0..5 {
            let origin = Origin {
                topic: topics.status.clone(),
                partition: 0,
                offset,
            };
            let record =
                orch_contracts::to_json(&status(&format!("s{offset}"), Status::Retrying, 1, 0));
            batch.push(&topics, origin, &record).unwrap();
        }
        let garbage = Origin {
            topic: topics.raw.clone(),
            partition: 1,
            offset: 7,
        };
        assert!(batch.push(&topics, garbage.clone(), b"{not json").is_err());
        assert_eq!(batch.len(), 6);
        let (mut singles, mut pending) = (Vec::new(), vec![batch]);
        while let Some(batch) = pending.pop() {
            match batch.split() {
                Split::Halves(a, b) => {
                    assert!(a.len().abs_diff(b.len()) <= 1);
                    pending.extend([a, b]);
                }
                Split::One(single) => singles.push(single),
                Split::Empty => panic!("no empty half"),
            }
        }
        assert_eq!(singles.len(), 6);
        let offsets: std::collections::BTreeSet<i64> = singles
            .iter()
            .map(|single| match single {
                Single::Status(origin, record) => {
                    assert_eq!(record.id, format!("s{}", origin.offset));
                    origin.offset
                }
                Single::Unreadable(unreadable) => {
                    assert_eq!(unreadable.origin, garbage);
                    assert_eq!(unreadable.payload, b"{not json");
                    unreadable.origin.offset
                }
                Single::Raw(..) => panic!("no raw record was pushed"),
            })
            .collect();
        assert_eq!(offsets, [0, 1, 2, 3, 4, 7].into());
    }

    #[test]
    fn delivered_stands_when_a_redelivery_of_its_generation_is_dead_lettered_later() {
        // The dispatcher delivered at attempt 1, crashed before committing,
        // and its successor gave up on the same event at attempt 5.
        for statuses in [
            vec![
                status("d", Status::Delivered, 1, 0),
                status("d", Status::DeadLettered, 5, 0),
            ],
            vec![
                status("d", Status::DeadLettered, 5, 0),
                status("d", Status::Delivered, 1, 0),
            ],
        ] {
            let batch = Batch {
                statuses,
                ..Batch::default()
            };
            let folds = batch.statuses_by_id();
            assert_eq!(folds[0].furthest.status, Status::Delivered);
        }
    }

    #[test]
    fn a_later_generation_outranks_any_status_of_an_earlier_one() {
        let batch = Batch {
            statuses: vec![
                status("b", Status::DeadLettered, 3, 0),
                status("b", Status::Retrying, 1, 1),
            ],
            ..Batch::default()
        };
        let folds = batch.statuses_by_id();
        assert_eq!(folds[0].furthest.status, Status::Retrying);
        assert_eq!(folds[0].furthest.generation, 1);
    }

    #[test]
    fn nul_escapes_become_replacement_characters_and_nothing_else_changes() {
        let patched = without_nul_escapes(br#"{"a":"x\u0000y","b":"\\u0000","c":"\\\u0000"}"#);
        let value: serde_json::Value = serde_json::from_slice(&patched).unwrap();
        assert_eq!(value["a"], "x\u{fffd}y");
        assert_eq!(
            value["b"], "\\u0000",
            "an escaped backslash is not an escape"
        );
        assert_eq!(value["c"], "\\\u{fffd}");
        assert!(matches!(without_nul_escapes(b"{}"), Cow::Borrowed(_)));
    }

    #[test]
    fn routes_by_topic_and_keeps_garbage_for_quarantine() {
        let topics = Topics::with_prefix("");
        let at = |topic: &str| Origin {
            topic: topic.to_owned(),
            partition: 0,
            offset: 0,
        };
        let mut batch = Batch::default();
        let record = orch_contracts::to_json(&status("a", Status::Delivered, 1, 0));
        batch.push(&topics, at("events.status"), &record).unwrap();
        assert_eq!(batch.statuses.len(), 1);
        assert_eq!(batch.status_origins, [at("events.status")]);
        assert!(batch.push(&topics, at("events.raw"), b"{not json").is_err());
        assert!(batch.push(&topics, at("elsewhere"), &record).is_err());
        assert_eq!(batch.unreadable.len(), 2);
        assert_eq!(batch.len(), 3);
    }
}
