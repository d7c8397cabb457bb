//! Fuzzing of request parsing and validation (`orch_command::intake`):
//! generated requests — well-formed, nearly well-formed and random bytes,
//! with hostile headers — must never panic, must be accepted only when valid,
//! and every refusal must be a problem with the right status.
//!
//! By default a few thousand cases run with the other tests; `FUZZ_SECONDS=600`
//! (what `dev/fuzz parser` sets) keeps generating for that long.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use orch_command::intake::{Intake, read_request};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

/// Cases per round; a timed run repeats rounds until its budget is spent.
const ROUND: u32 = 2_000;

/// Strings that make parsers stumble: controls, NUL, surrogates' neighbours,
/// huge and empty ones, look-alikes of the other accepted forms.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,40}",
        "\\PC{0,20}",
        "[\\x00-\\x1f\\x7f\u{80}-\u{9f}\u{200b}-\u{202e}\u{feff}\u{fffd}]{0,8}",
        Just(String::new()),
        Just("x".repeat(257)),
        Just("é".repeat(129)),
        "-?[0-9]{1,20}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})",
        " ?[0-9]{9,13} ?",
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        (0i64..2_200_000_000).prop_map(Value::from),
        (0i64..2_200_000_000_000).prop_map(Value::from),
        tricky_string().prop_map(Value::from),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(tricky_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Arrays and objects nested `depth` levels around a scalar, up to past the
/// 32 levels an unknown field may take.
fn deep_json() -> impl Strategy<Value = Value> {
    (0usize..48, any::<bool>()).prop_map(|(depth, objects)| {
        (0..depth).fold(Value::from(1), |inner, _| {
            if objects {
                json!({ "k": inner })
            } else {
                Value::Array(vec![inner])
            }
        })
    })
}

/// An object near the contract: each field present or not, of the right type
/// or not, plus extras, some deeply nested.
fn event_like() -> impl Strategy<Value = Value> {
    let field = |good: BoxedStrategy<Value>| prop_oneof![8 => good.prop_map(Some), 1 => any_json().prop_map(Some), 1 => Just(None)];
    let text = tricky_string().prop_map(Value::from).boxed();
    let id = prop_oneof![
        3 => "[a-zA-Z0-9_.:/ é🚀-]{1,64}".prop_map(Value::from),
        1 => tricky_string().prop_map(Value::from),
    ]
    .boxed();
    let time = prop_oneof![
        3 => (0i64..=2_147_483_647).prop_map(Value::from),
        2 => "20[0-3][0-7]-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])"
            .prop_map(Value::from),
        1 => (0i64..2_200_000_000_000).prop_map(|n| Value::from(n.to_string())),
        1 => tricky_string().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
    ]
    .boxed();
    (
        field(id),
        field(text.clone()),
        field(text),
        field(time),
        prop::collection::btree_map(
            tricky_string(),
            prop_oneof![3 => any_json(), 1 => deep_json()],
            0..3,
        ),
    )
        .prop_map(|(id, name, body, timestamp, extra)| {
            let mut object: Map<String, Value> = extra.into_iter().collect();
            for (key, value) in [
                ("id", id),
                ("name", name),
                ("body", body),
                ("timestamp", timestamp),
            ] {
                match value {
                    Some(value) => {
                        object.insert(key.to_owned(), value);
                    }
                    None => {
                        object.remove(key);
                    }
                }
            }
            Value::Object(object)
        })
}

/// Bodies: serialized event-like objects, some cut short or with a byte
/// changed, any JSON at all, and random bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let serialized = event_like()
        .prop_map(|v| serde_json::to_vec(&v).unwrap_or_default())
        .boxed();
    prop_oneof![
        6 => serialized.clone(),
        2 => (serialized.clone(), any::<prop::sample::Index>()).prop_map(|(bytes, at)| {
            let cut = if bytes.is_empty() { 0 } else { at.index(bytes.len()) };
            bytes[..cut].to_vec()
        }),
        2 => (serialized, any::<prop::sample::Index>(), any::<u8>()).prop_map(|(mut bytes, at, b)| {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            bytes
        }),
        1 => any_json().prop_map(|v| serde_json::to_vec(&v).unwrap_or_default()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    let content_type = prop_oneof![
        4 => Just(Some("application/json".to_owned())),
        1 => Just(Some("application/cloudevents+json; charset=utf-8".to_owned())),
        1 => Just(Some("text/plain".to_owned())),
        1 => "[ -~]{0,30}".prop_map(Some),
        1 => Just(None),
    ];
    let correlation = prop_oneof![
        3 => Just(None),
        1 => "[ -~]{0,80}".prop_map(Some),
        1 => "[a-zA-Z0-9-]{300,400}".prop_map(Some),
    ];
    (content_type, correlation).prop_map(|(content_type, correlation)| {
        let mut headers = HeaderMap::new();
        let mut set = |name: &'static str, value: Option<String>| {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                headers.insert(HeaderName::from_static(name), value);
            }
        };
        set("content-type", content_type);
        set("x-correlation-id", correlation);
        headers
    })
}

/// The invariants for one request; says whether it was accepted.
/// Arrays and objects deep, counted independently of the service's own count.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn check(headers: &HeaderMap, body: &[u8]) -> Result<bool, TestCaseError> {
    match read_request(headers, Ok(body)) {
        Ok(Intake { event, .. }) => {
            // Accepted: it must really be valid, by the contract's own words.
            let object = serde_json::from_slice::<Value>(body)
                .map_err(|e| TestCaseError::fail(format!("accepted invalid JSON: {e}")))?;
            let id = event.id.as_str();
            prop_assert_eq!(object["id"].as_str(), Some(id));
            prop_assert!(
                !id.is_empty() && id.len() <= 256 && !id.chars().any(char::is_control),
                "bad id accepted: {id:?}"
            );
            prop_assert_eq!(object["name"].as_str(), Some(event.name.as_str()));
            prop_assert_eq!(object["body"].as_str(), Some(event.body.as_str()));
            prop_assert!(!event.name.contains('\0') && !event.body.contains('\0'));
            let seconds = event.timestamp.utc().unix_timestamp();
            prop_assert!(
                (0..=i64::from(i32::MAX)).contains(&seconds),
                "time out of range accepted: {seconds}"
            );
            prop_assert_eq!(event.timestamp.utc().offset(), time::UtcOffset::UTC);
            for key in ["id", "name", "body", "timestamp"] {
                prop_assert!(
                    !event.extra.contains_key(key),
                    "{key} left among the extras"
                );
            }
            for (key, value) in &event.extra {
                prop_assert!(
                    depth(value) <= 32,
                    "unknown field {key:?} nested past 32 accepted"
                );
            }
            prop_assert_eq!(
                event.extra.len() + 4,
                object.as_object().map_or(0, Map::len)
            );
            Ok(true)
        }
        Err(problem) => {
            prop_assert!(
                [400, 415, 422].contains(&problem.status),
                "unexpected status {}",
                problem.status
            );
            let rendered =
                serde_json::to_value(&problem).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(rendered["status"].as_u64(), Some(u64::from(problem.status)));
            prop_assert!(rendered["title"].is_string() && rendered["type"].is_string());
            if problem.status == 422 {
                prop_assert!(
                    rendered["errors"].as_array().is_some_and(|e| !e.is_empty()),
                    "422 names no field"
                );
            }
            Ok(false)
        }
    }
}

#[test]
fn parsing_never_panics_and_accepts_only_valid_events() {
    let budget = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs);
    let deadline = Instant::now() + budget.unwrap_or_default();
    let (cases, accepted) = (AtomicU64::new(0), AtomicU64::new(0));
    loop {
        // A runner stops once it has passed `cases` cases, so each round gets
        // a fresh one (and a fresh random seed).
        TestRunner::new(Config {
            cases: ROUND,
            failure_persistence: None,
            ..Config::default()
        })
        .run(&(headers(), body()), |(headers, body)| {
            cases.fetch_add(1, Ordering::Relaxed);
            if check(&headers, &body)? {
                accepted.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
        if Instant::now() >= deadline {
            break;
        }
    }
    let cases = cases.into_inner();
    let accepted = accepted.into_inner();
    eprintln!("parser fuzz: {cases} cases, {accepted} accepted, 0 failures");
    assert!(
        accepted > 0,
        "the generator never produced a valid event; it explores nothing useful"
    );
}
