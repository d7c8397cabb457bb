//! The checks after a run drains: nothing accepted lost, nothing invented,
//! every payload as issued, no status backwards, duplicates within bounds.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::oracle::{Answer, Class, Issued, Oracle};
use crate::readmodel::Row;
use crate::sampler::Backwards;

/// An item as the target holds it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Item {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) body: String,
    pub(crate) timestamp: i64,
    pub(crate) brand: String,
}

/// What a run's checks found. Every list names ids, so a failure can be
/// followed into the logs.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Verdict {
    pub(crate) issued: usize,
    pub(crate) accepted: usize,
    pub(crate) refused: usize,
    pub(crate) unreachable: usize,
    /// No answer came; the event may or may not have been taken.
    pub(crate) unknown: usize,
    /// Of those, found in the read model (and checked like accepted ones).
    pub(crate) unknown_present: usize,
    /// Refused (503 after the deadline) yet present: taken after all, and
    /// checked like accepted ones.
    pub(crate) refused_present: usize,
    /// Accepted, but not in Postgres at an end.
    pub(crate) lost: Vec<String>,
    /// At an end, but not the one its class says.
    pub(crate) wrong_status: Vec<String>,
    /// Deliverable and taken, but not held by the target (or held but not in Postgres).
    pub(crate) missing_at_target: Vec<String>,
    /// Poison, yet held by the target.
    pub(crate) poison_at_target: Vec<String>,
    /// Name, body, time or brand differ from what was issued.
    pub(crate) mismatched: Vec<String>,
    /// Ids the oracle never issued, in Postgres or at the target.
    pub(crate) invented: Vec<String>,
    pub(crate) backwards: Vec<Backwards>,
    /// `createItem` calls for an id the target already held.
    pub(crate) duplicates: u64,
    /// In-flight window × disruptions of delivery.
    pub(crate) duplicate_bound: u64,
}

impl Verdict {
    /// Whether every invariant held.
    pub(crate) fn passed(&self) -> bool {
        self.lost.is_empty()
            && self.wrong_status.is_empty()
            && self.missing_at_target.is_empty()
            && self.poison_at_target.is_empty()
            && self.mismatched.is_empty()
            && self.invented.is_empty()
            && self.backwards.is_empty()
            && self.duplicates <= self.duplicate_bound
    }
}

/// Everything the checks look at.
#[derive(Debug)]
pub(crate) struct Evidence<'a> {
    pub(crate) oracle: &'a Oracle,
    pub(crate) answers: &'a [Answer],
    pub(crate) rows: &'a HashMap<String, Row>,
    pub(crate) items: &'a HashMap<String, Item>,
    pub(crate) brand: &'a str,
    pub(crate) backwards: Vec<Backwards>,
    pub(crate) duplicates: u64,
    pub(crate) duplicate_bound: u64,
}

/// Judges a drained run.
pub(crate) fn judge(evidence: Evidence<'_>) -> Verdict {
    let Evidence {
        oracle,
        answers,
        rows,
        items,
        brand,
        ..
    } = evidence;
    let mut verdict = Verdict {
        issued: oracle.events.len(),
        backwards: evidence.backwards,
        duplicates: evidence.duplicates,
        duplicate_bound: evidence.duplicate_bound,
        ..Verdict::default()
    };
    for (event, answer) in oracle.events.iter().zip(answers) {
        // Taken if accepted, or found in Postgres or at the target whatever
        // the answer said; then it is checked like an accepted one. Never
        // taken, it must not be anywhere, which `invented` does not cover.
        let found = rows.contains_key(&event.id) || items.contains_key(&event.id);
        match answer {
            Answer::Accepted => verdict.accepted += 1,
            Answer::Refused(_) => verdict.refused += 1,
            Answer::Unreachable => verdict.unreachable += 1,
            Answer::Unknown => verdict.unknown += 1,
        }
        match answer {
            Answer::Accepted => {}
            _ if !found => continue,
            Answer::Unknown => verdict.unknown_present += 1,
            Answer::Refused(_) | Answer::Unreachable => verdict.refused_present += 1,
        }
        check_taken(
            event,
            rows.get(&event.id),
            items.get(&event.id),
            brand,
            &mut verdict,
        );
    }
    check_taken(
        &oracle.fresh,
        rows.get(&oracle.fresh.id),
        items.get(&oracle.fresh.id),
        brand,
        &mut verdict,
    );
    let mut invented: Vec<String> = rows
        .keys()
        .chain(items.keys())
        .filter(|id| oracle.get(id).is_none())
        .cloned()
        .collect();
    invented.sort();
    invented.dedup();
    verdict.invented = invented;
    verdict
}

/// The checks for one event the service took.
fn check_taken(
    event: &Issued,
    row: Option<&Row>,
    item: Option<&Item>,
    brand: &str,
    verdict: &mut Verdict,
) {
    let id = || event.id.clone();
    // A poison event never reaches the enricher, so it has no brand to check.
    let same = |name: Option<&str>, body: Option<&str>, seconds: Option<i64>, got: Option<&str>| {
        name == Some(event.name.as_str())
            && body == Some(event.text.as_str())
            && seconds == Some(event.unix_seconds)
            && (event.class == Class::Poison || got == Some(brand))
    };
    let mut mismatched = false;
    match row {
        Some(row) if row.is_final() => {
            if row.status != event.class.final_status() {
                verdict.wrong_status.push(id());
            }
            mismatched |= !same(
                row.name.as_deref(),
                row.body.as_deref(),
                row.unix_seconds,
                row.brand.as_deref(),
            );
        }
        _ => verdict.lost.push(id()),
    }
    match (event.class, item) {
        (Class::Deliverable, None) => verdict.missing_at_target.push(id()),
        (Class::Deliverable, Some(item)) => {
            mismatched |= !same(
                Some(&item.name),
                Some(&item.body),
                Some(item.timestamp),
                Some(&item.brand),
            );
        }
        (Class::Poison, Some(_)) => verdict.poison_at_target.push(id()),
        (Class::Poison, None) => {}
    }
    if mismatched {
        verdict.mismatched.push(id());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(event: &Issued, brand: &str) -> Row {
        Row {
            id: event.id.clone(),
            status: event.class.final_status().to_owned(),
            name: Some(event.name.clone()),
            body: Some(event.text.clone()),
            brand: Some(brand.to_owned()),
            unix_seconds: Some(event.unix_seconds),
            status_generation: 0,
            status_rank: 3,
            status_attempt: 1,
        }
    }

    fn item(event: &Issued, brand: &str) -> Item {
        Item {
            id: event.id.clone(),
            name: event.name.clone(),
            body: event.text.clone(),
            timestamp: event.unix_seconds,
            brand: brand.to_owned(),
        }
    }

    /// A run where everything went right: every event accepted and at its end.
    fn clean(oracle: &Oracle) -> (Vec<Answer>, HashMap<String, Row>, HashMap<String, Item>) {
        let answers = vec![Answer::Accepted; oracle.events.len()];
        let all = oracle.events.iter().chain([&oracle.fresh]);
        let rows = all.clone().map(|e| (e.id.clone(), row(e, "b"))).collect();
        let items = all
            .filter(|e| e.class == Class::Deliverable)
            .map(|e| (e.id.clone(), item(e, "b")))
            .collect();
        (answers, rows, items)
    }

    fn judge_with(
        oracle: &Oracle,
        answers: &[Answer],
        rows: &HashMap<String, Row>,
        items: &HashMap<String, Item>,
    ) -> Verdict {
        judge(Evidence {
            oracle,
            answers,
            rows,
            items,
            brand: "b",
            backwards: Vec::new(),
            duplicates: 0,
            duplicate_bound: 0,
        })
    }

    #[test]
    fn a_clean_run_passes_and_each_breach_is_named() {
        let oracle = Oracle::new(1, 200);
        let (answers, rows, items) = clean(&oracle);
        let verdict = judge_with(&oracle, &answers, &rows, &items);
        assert!(verdict.passed(), "{verdict:?}");
        assert_eq!(verdict.accepted, 200);

        let deliverable = oracle
            .events
            .iter()
            .find(|e| e.class == Class::Deliverable)
            .unwrap();
        let poison = oracle
            .events
            .iter()
            .find(|e| e.class == Class::Poison)
            .unwrap();

        let (mut rows_lost, mut items_lost) = (rows.clone(), items.clone());
        rows_lost.remove(&deliverable.id);
        items_lost.remove(&deliverable.id);
        let verdict = judge_with(&oracle, &answers, &rows_lost, &items_lost);
        assert_eq!(verdict.lost, [deliverable.id.as_str()]);
        assert_eq!(verdict.missing_at_target, [deliverable.id.as_str()]);
        assert!(!verdict.passed());

        let mut rows_wrong = rows.clone();
        rows_wrong.get_mut(&poison.id).unwrap().status = "delivered".into();
        rows_wrong.get_mut(&deliverable.id).unwrap().body = Some("changed".into());
        let mut items_extra = items.clone();
        items_extra.insert(poison.id.clone(), item(poison, "b"));
        items_extra.insert("f1-999999".into(), item(deliverable, "b"));
        let verdict = judge_with(&oracle, &answers, &rows_wrong, &items_extra);
        assert_eq!(verdict.wrong_status, [poison.id.as_str()]);
        assert_eq!(verdict.mismatched, [deliverable.id.as_str()]);
        assert_eq!(verdict.poison_at_target, [poison.id.as_str()]);
        assert_eq!(verdict.invented, ["f1-999999"]);
    }

    #[test]
    fn unanswered_events_may_be_absent_but_are_checked_when_present() {
        let oracle = Oracle::new(2, 50);
        let (mut answers, mut rows, mut items) = clean(&oracle);
        let (gone, kept) = (&oracle.events[0], &oracle.events[1]);
        let at_target_only = oracle.events[2..]
            .iter()
            .position(|e| e.class == Class::Deliverable)
            .map(|i| i + 2)
            .unwrap();
        let only = &oracle.events[at_target_only];
        answers[0] = Answer::Unknown;
        answers[1] = Answer::Unknown;
        answers[at_target_only] = Answer::Unknown;
        rows.remove(&gone.id);
        items.remove(&gone.id);
        rows.remove(&only.id);
        rows.get_mut(&kept.id).unwrap().status = "accepted".into();
        let verdict = judge_with(&oracle, &answers, &rows, &items);
        assert_eq!(verdict.unknown, 3);
        assert_eq!(
            (verdict.unknown_present, verdict.refused_present),
            (2, 0),
            "unanswered yet found (one only at the target): counted as unanswered"
        );
        let mut lost = verdict.lost.clone();
        lost.sort();
        let mut expected = vec![kept.id.clone(), only.id.clone()];
        expected.sort();
        assert_eq!(
            lost, expected,
            "present somewhere, so it must reach its end"
        );
    }

    #[test]
    fn duplicates_beyond_the_bound_fail_the_run() {
        let oracle = Oracle::new(3, 10);
        let (answers, rows, items) = clean(&oracle);
        let verdict = judge(Evidence {
            oracle: &oracle,
            answers: &answers,
            rows: &rows,
            items: &items,
            brand: "b",
            backwards: Vec::new(),
            duplicates: 11,
            duplicate_bound: 10,
        });
        assert!(!verdict.passed());
    }
}
