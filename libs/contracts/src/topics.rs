/// The deployment's topic names, after applying its prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// Accepted events, as the source sent them (normalised).
    pub raw: String,
    /// Every delivery outcome: accepted → retrying → delivered | dead_lettered.
    pub status: String,
    /// Events that could not be delivered, with the reason and attempt history.
    pub dlq: String,
    /// Delivery controls (pause, rate), compacted: the latest of each is kept.
    pub control: String,
}

impl Topics {
    /// Topic names under `prefix` (empty for the canonical `events.*`).
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            raw: format!("{prefix}events.raw"),
            status: format!("{prefix}events.status"),
            dlq: format!("{prefix}events.dlq"),
            control: format!("{prefix}events.control"),
        }
    }

    /// The three event topics, which share one retention and partition count.
    pub fn events(&self) -> [&str; 3] {
        [&self.raw, &self.status, &self.dlq]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_prepended_to_every_topic() {
        let topics = Topics::with_prefix("t1.");
        assert_eq!(
            topics.events(),
            ["t1.events.raw", "t1.events.status", "t1.events.dlq"]
        );
        assert_eq!(topics.control, "t1.events.control");
        assert_eq!(Topics::with_prefix("").raw, "events.raw");
    }
}
