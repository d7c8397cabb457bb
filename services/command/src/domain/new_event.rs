use orch_http::FieldError;
use serde_json::{Map, Value};

use super::{EventId, EventTime};

/// A validated event, ready to become a raw record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The source's id.
    pub id: EventId,
    /// Event name.
    pub name: String,
    /// Event body.
    pub body: String,
    /// Event time, in UTC.
    pub timestamp: EventTime,
    /// Unknown fields, kept in the raw record but not delivered.
    pub extra: Map<String, Value>,
}

impl NewEvent {
    /// Validates a JSON object, naming every bad field rather than the first.
    pub fn from_json(mut object: Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let id = take_string(&mut object, "id", &mut errors).and_then(|raw| {
            EventId::parse(&raw)
                .map_err(|m| errors.push(FieldError::new("id", m)))
                .ok()
        });
        let name = take_string(&mut object, "name", &mut errors);
        let body = take_string(&mut object, "body", &mut errors);
        let timestamp = match object.remove("timestamp") {
            None => {
                errors.push(FieldError::new("timestamp", "is required"));
                None
            }
            Some(value) => EventTime::parse(&value)
                .map_err(|m| errors.push(FieldError::new("timestamp", m)))
                .ok(),
        };
        // Postgres text and jsonb cannot hold U+0000: one such event would
        // stall the read model, so it is refused here with the field named.
        for (field, text) in [("name", &name), ("body", &body)] {
            if text.as_deref().is_some_and(|t| t.contains('\0')) {
                errors.push(FieldError::new(field, NUL_MESSAGE));
            }
        }
        for (key, value) in &object {
            let problem = if key.contains('\0') {
                Some(ExtraProblem::Nul)
            } else {
                extra_problem(value, 0)
            };
            match problem {
                Some(ExtraProblem::Nul) => {
                    errors.push(FieldError::new(key.replace('\0', "\\u0000"), NUL_MESSAGE))
                }
                Some(ExtraProblem::TooDeep) => errors.push(FieldError::new(
                    key.as_str(),
                    format!(
                        "must not nest arrays and objects more than {MAX_EXTRA_NESTING} levels deep"
                    ),
                )),
                None => {}
            }
        }
        match (id, name, body, timestamp) {
            (Some(id), Some(name), Some(body), Some(timestamp)) if errors.is_empty() => Ok(Self {
                id,
                name,
                body,
                timestamp,
                extra: object,
            }),
            _ => Err(errors),
        }
    }
}

const NUL_MESSAGE: &str = "must not contain U+0000 (NUL), which the event store cannot hold";

/// How deep arrays and objects may nest in an unknown field. The raw record
/// and the dead letter wrap the event in a few more levels, and every reader
/// (dispatcher, projector, redrive) stops at serde_json's 128: an event
/// accepted deeper than that could never be delivered or shown.
const MAX_EXTRA_NESTING: usize = 32;

/// Why an unknown field cannot be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExtraProblem {
    /// A string in it (keys included) holds U+0000.
    Nul,
    /// Arrays and objects in it nest deeper than [`MAX_EXTRA_NESTING`].
    TooDeep,
}

/// The first problem met walking `value`, which sits inside `depth` arrays
/// and objects: one walk for both rules, stopping at the first.
fn extra_problem(value: &Value, depth: usize) -> Option<ExtraProblem> {
    let inside = depth + 1;
    match value {
        Value::String(text) if text.contains('\0') => Some(ExtraProblem::Nul),
        Value::Array(_) | Value::Object(_) if inside > MAX_EXTRA_NESTING => {
            Some(ExtraProblem::TooDeep)
        }
        Value::Array(items) => items.iter().find_map(|v| extra_problem(v, inside)),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(ExtraProblem::Nul)
            } else {
                extra_problem(v, inside)
            }
        }),
        _ => None,
    }
}

fn take_string(
    object: &mut Map<String, Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match object.remove(field) {
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
        None => {
            errors.push(FieldError::new(field, "is required"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn keeps_unknown_fields_apart() {
        let event = NewEvent::from_json(object(json!({
            "id": "e1", "name": "n", "body": "b",
            "timestamp": "2026-11-21T10:00:00Z", "colour": "blue"
        })))
        .unwrap();
        assert_eq!(event.id.as_str(), "e1");
        assert_eq!(event.extra.len(), 1);
        assert_eq!(event.extra["colour"], "blue");
    }

    #[test]
    fn refuses_nul_in_any_string_and_names_where() {
        let errors = NewEvent::from_json(object(json!({
            "id": "e1", "name": "a\u{0}b", "body": "fine",
            "timestamp": "2026-11-21T10:00:00Z",
            "tags": ["ok", {"deep": "x\u{0}"}], "k\u{0}": 1
        })))
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "k\\u0000", "tags"]);
        assert!(errors[0].message.contains("U+0000"));
        let fine = NewEvent::from_json(object(json!({
            "id": "e2", "name": "\\u0000 as text is fine", "body": "b",
            "timestamp": 0
        })));
        assert!(fine.is_ok());
    }

    #[test]
    fn refuses_unknown_fields_nested_past_what_readers_take() {
        let nest = |depth: usize| -> Value {
            serde_json::from_str(&format!("{}1{}", "[".repeat(depth), "]".repeat(depth))).unwrap()
        };
        let event = |deep: Value| {
            NewEvent::from_json(object(json!({
                "id": "e1", "name": "n", "body": "b", "timestamp": 0,
                "deep": deep, "flat": {"a": 1}
            })))
        };
        assert_eq!(extra_problem(&nest(MAX_EXTRA_NESTING), 0), None);
        assert_eq!(
            extra_problem(&nest(MAX_EXTRA_NESTING + 1), 0),
            Some(ExtraProblem::TooDeep)
        );
        assert!(event(nest(MAX_EXTRA_NESTING)).is_ok());
        assert!(event(json!({"a": [{"b": []}]})).is_ok());
        let errors = event(nest(MAX_EXTRA_NESTING + 1)).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "deep");
        assert!(errors[0].message.contains("32 levels"));
    }

    #[test]
    fn names_every_bad_field_at_once() {
        let errors = NewEvent::from_json(object(json!({
            "id": "", "name": 3, "timestamp": "never"
        })))
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["id", "name", "body", "timestamp"]);
        assert_eq!(errors[2].message, "is required");
    }
}
