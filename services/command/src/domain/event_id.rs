/// Longest id accepted, in bytes (UTF-8).
const MAX_ID_BYTES: usize = 256;

/// An event id: non-empty, at most 256 bytes, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventId(String);

impl EventId {
    /// Checks `raw` against the contract; the error says what is wrong.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("must not be empty".into());
        }
        if raw.len() > MAX_ID_BYTES {
            return Err(format!(
                "must be at most {MAX_ID_BYTES} bytes, got {}",
                raw.len()
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(raw.to_owned()))
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
                "must not contain control characters",
                "{bad:?}"
            );
        }
    }
}
