//! The domain's names for an event and a brand, so that every service past
//! the command service's edge handles checked values, not bare strings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest event id accepted, in bytes (UTF-8).
pub const MAX_EVENT_ID_BYTES: usize = 256;

/// An event id: non-empty, at most 256 bytes, no control characters. A
/// record whose id is not one does not parse, so it can never reach a key,
/// a URL or a row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventId(String);

impl EventId {
    /// Checks `raw` against the contract; the error says what is wrong.
    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::try_from(raw.to_owned())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for EventId {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("must not be empty".into());
        }
        if raw.len() > MAX_EVENT_ID_BYTES {
            return Err(format!(
                "must be at most {MAX_EVENT_ID_BYTES} bytes, got {}",
                raw.len()
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(raw))
    }
}

impl From<EventId> for String {
    fn from(id: EventId) -> Self {
        id.0
    }
}

impl AsRef<str> for EventId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for EventId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for EventId {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<&str> for EventId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Read-only: an id is used where text is (keys, URLs, SQL parameters).
impl std::ops::Deref for EventId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The brand the dispatcher enriches an event with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Brand(String);

impl Brand {
    /// A brand by name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The brand as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Brand {
    fn from(name: &str) -> Self {
        Self(name.to_owned())
    }
}

impl From<String> for Brand {
    fn from(name: String) -> Self {
        Self(name)
    }
}

impl PartialEq<&str> for Brand {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Read-only: a brand is used where text is (GraphQL variables, rows).
impl std::ops::Deref for Brand {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Brand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_unicode_ids_up_to_the_limit() {
        assert_eq!(EventId::parse("e1").unwrap().as_str(), "e1");
        assert!(EventId::parse("évènement-42").is_ok());
        assert!(EventId::parse(&"x".repeat(256)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_control_characters() {
        assert_eq!(EventId::parse("").unwrap_err(), "must not be empty");
        assert!(
            EventId::parse(&"x".repeat(257))
                .unwrap_err()
                .contains("at most 256 bytes")
        );
        // 86 three-byte characters are 258 bytes though only 86 chars.
        assert!(EventId::parse(&"€".repeat(86)).is_err());
        for bad in ["a\nb", "a\u{0}b", "a\tb", "a\u{7f}b", "a\u{85}b"] {
            assert_eq!(
                EventId::parse(bad).unwrap_err(),
                "must not contain control characters"
            );
        }
    }

    #[test]
    fn a_record_with_a_bad_id_does_not_parse_and_a_good_one_round_trips() {
        let good: EventId = serde_json::from_str("\"order-7\"").unwrap();
        assert_eq!(serde_json::to_string(&good).unwrap(), "\"order-7\"");
        let error = serde_json::from_str::<EventId>("\"a\\u0000b\"").unwrap_err();
        assert!(error.to_string().contains("control characters"), "{error}");
        assert_eq!(
            serde_json::to_string(&Brand::new("testBrand")).unwrap(),
            "\"testBrand\""
        );
    }
}
