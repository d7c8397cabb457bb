//! The oracle: the events a run issues, what each should become, and what
//! the command service answered for each.

use std::collections::HashMap;

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::Serialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Strings that would do harm if any hop built a query, a statement or markup
/// from them: each must reach the target and Postgres byte for byte.
const HOSTILE: &[&str] = &[
    r#"") { id } mutation { clearItems } #"#,
    r#"{ getItems { id name body } }"#,
    "'; DROP TABLE events; --",
    "Robert'); DELETE FROM event_history WHERE ('1'='1",
    r"\'; SELECT pg_sleep(10); --",
    "$1 $$ %s %n %x {0} ${jndi:ldap://x}",
    "<script>alert(1)</script>",
    r#"{"nested": {"json": [1, 2, {"deep": null}]}}"#,
    "line one\nline two\r\n\ttabbed\u{7f}",
    "ζ∂ 🚀 \u{202e}desrever\u{202c} e\u{301} \u{feff}",
    "\\u0000 is not a NUL, and neither is \\x00",
];

/// What an event should end as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Class {
    /// The target takes it: `delivered`, and held by the target.
    Deliverable,
    /// The target refuses its id with a 400: `dead_lettered`, never held.
    Poison,
}

impl Class {
    /// The status this class ends in.
    pub(crate) fn final_status(self) -> &'static str {
        match self {
            Class::Deliverable => "delivered",
            Class::Poison => "dead_lettered",
        }
    }
}

/// One event the oracle issues.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub(crate) id: String,
    pub(crate) class: Class,
    /// The request body sent.
    pub(crate) body: Value,
    pub(crate) name: String,
    pub(crate) text: String,
    /// The time the target should get: Unix seconds.
    pub(crate) unix_seconds: i64,
}

/// What the command service answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// 202: the service promised the event is durable.
    Accepted,
    /// Any other status: not accepted.
    Refused(u16),
    /// The connection was refused: the request never reached a service.
    Unreachable,
    /// Sent, but no answer came (a crash or timeout mid-request): it may or
    /// may not have been accepted.
    Unknown,
}

/// The ids a run issues, from its seed.
#[derive(Debug)]
pub(crate) struct Oracle {
    /// Poison ids start with this; the target refuses them.
    pub(crate) poison_prefix: String,
    /// Sent by the load, in order.
    pub(crate) events: Vec<Issued>,
    /// Sent alone after the run, to show the pipeline works again.
    pub(crate) fresh: Issued,
    index: HashMap<String, usize>,
}

impl Oracle {
    /// `count` events for `seed`; about one in 40 is poison and one in 5
    /// carries a hostile string.
    pub(crate) fn new(seed: u64, count: u32) -> Self {
        let prefix = format!("f{seed}-");
        let poison_prefix = format!("{prefix}poison-");
        let mut rng = StdRng::seed_from_u64(seed ^ 0x6f72_6163_6c65);
        let events: Vec<Issued> = (0..count)
            .map(|n| issue(&mut rng, &prefix, &poison_prefix, n))
            .collect();
        let mut fresh = issue(&mut rng, &prefix, &poison_prefix, count);
        fresh.class = Class::Deliverable;
        fresh.id = format!("{prefix}fresh");
        fresh.body["id"] = json!(fresh.id);
        let index = events
            .iter()
            .enumerate()
            .map(|(n, event)| (event.id.clone(), n))
            .collect();
        Self {
            poison_prefix,
            events,
            fresh,
            index,
        }
    }

    /// The event issued as `id`, if the oracle issued it (the fresh one included).
    pub(crate) fn get(&self, id: &str) -> Option<&Issued> {
        match self.index.get(id) {
            Some(&n) => Some(&self.events[n]),
            None => (id == self.fresh.id).then_some(&self.fresh),
        }
    }
}

fn issue(rng: &mut StdRng, prefix: &str, poison_prefix: &str, n: u32) -> Issued {
    let class = if rng.gen_ratio(1, 40) {
        Class::Poison
    } else {
        Class::Deliverable
    };
    let id = match class {
        Class::Poison => format!("{poison_prefix}{n:06}"),
        Class::Deliverable => format!("{prefix}{n:06}"),
    };
    let text = |rng: &mut StdRng| {
        if rng.gen_ratio(1, 5) {
            HOSTILE[rng.gen_range(0..HOSTILE.len())].to_owned()
        } else {
            format!("event {n} word{}", rng.gen_range(0..1_000_000))
        }
    };
    let name = text(rng);
    let body_text = text(rng);
    // 2000-01-01 .. 2037-12-31, inside the target's 32-bit seconds.
    let unix_seconds = rng.gen_range(946_684_800_i64..2_145_830_400);
    let millis = rng.gen_range(0..1_000_i64);
    let timestamp = match rng.gen_range(0..6) {
        0 => json!(rfc3339(unix_seconds, millis, 0)),
        1 => json!(rfc3339(
            unix_seconds,
            millis,
            rng.gen_range(-12 * 60..=14 * 60)
        )),
        2 => json!(unix_seconds),
        3 => json!(unix_seconds.to_string()),
        4 => json!(unix_seconds * 1_000 + millis),
        _ => json!((unix_seconds * 1_000 + millis).to_string()),
    };
    let mut body = json!({ "id": id, "name": name, "body": body_text, "timestamp": timestamp });
    if rng.gen_ratio(1, 10) {
        body["origin"] = json!({ "suite": "faults", "n": n });
    }
    Issued {
        id,
        class,
        body,
        name,
        text: body_text,
        unix_seconds,
    }
}

/// `seconds.millis` as RFC 3339 in a zone `offset_minutes` from UTC.
fn rfc3339(seconds: i64, millis: i64, offset_minutes: i32) -> String {
    let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap_or(UtcOffset::UTC);
    (OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        + time::Duration::milliseconds(millis))
    .to_offset(offset)
    .format(&Rfc3339)
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_issues_the_same_events_with_both_classes_and_hostile_text() {
        let a = Oracle::new(7, 2_000);
        let b = Oracle::new(7, 2_000);
        assert!(
            a.events
                .iter()
                .zip(&b.events)
                .all(|(x, y)| x.body == y.body)
        );
        assert!(a.events.iter().any(|e| e.class == Class::Poison));
        assert!(a.events.iter().any(|e| HOSTILE.contains(&e.name.as_str())));
        assert!(a.events.iter().all(|e| a.get(&e.id).is_some()));
        assert!(a.get(&a.fresh.id).is_some());
        assert!(
            a.get("f7-999999").is_none(),
            "the prefix alone is not enough"
        );
        let poison = a.events.iter().filter(|e| e.class == Class::Poison);
        assert!(poison.clone().all(|e| e.id.starts_with(&a.poison_prefix)));
    }

    #[test]
    fn every_timestamp_form_names_the_expected_second() {
        let parsed = OffsetDateTime::parse(&rfc3339(1_795_255_200, 999, 330), &Rfc3339).unwrap();
        assert_eq!(parsed.unix_timestamp(), 1_795_255_200);
        assert_eq!(parsed.offset().whole_minutes(), 330);
    }
}
