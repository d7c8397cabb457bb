use orch_contracts::{Brand, EventId, RawEventRecord};
use serde::Serialize;

/// What the target receives: the contract's fields plus the brand, and nothing
/// else (unknown fields stay in the raw record).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct EnrichedEvent {
    pub(crate) id: EventId,
    pub(crate) name: String,
    pub(crate) body: String,
    /// Unix seconds: the target's `timestamp` is a GraphQL `Int`.
    pub(crate) timestamp: i64,
    pub(crate) brand: Brand,
}

/// The one place enrichment rules live; today a single configured brand.
#[derive(Debug, Clone)]
pub(crate) struct Enricher {
    brand: Brand,
}

impl Enricher {
    pub(crate) fn new(brand: Brand) -> Self {
        Self { brand }
    }

    /// The brand events are enriched with.
    pub(crate) fn brand(&self) -> &Brand {
        &self.brand
    }

    pub(crate) fn enrich(&self, event: &RawEventRecord) -> EnrichedEvent {
        EnrichedEvent {
            id: event.id.clone(),
            name: event.name.clone(),
            body: event.body.clone(),
            timestamp: event.unix_timestamp(),
            brand: self.brand.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;
    use time::macros::datetime;

    #[test]
    fn adds_the_brand_and_drops_unknown_fields() {
        let mut extra = Map::new();
        extra.insert("secret".into(), "x".into());
        let raw = RawEventRecord::new(
            EventId::parse("e1").unwrap(),
            "n".into(),
            "b".into(),
            datetime!(2026-11-21 10:00:00 UTC),
            "t".into(),
            extra,
        );
        let enriched = Enricher::new(Brand::new("testBrand")).enrich(&raw);
        let json = serde_json::to_value(&enriched).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id":"e1","name":"n","body":"b","timestamp":1_795_255_200,"brand":"testBrand"})
        );
    }
}
