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
