//! Publishing events again to the raw topic at a new generation, rebuilt
//! from the read model, which holds every field of the raw record (the
//! rebuild test proves the projection reproduces them). The console's
//! redrive and the overdue sweeper both go through here.

use orch_contracts::EventId;
use std::time::Duration;

use orch_contracts::RawEventRecord;
use rdkafka::producer::FutureRecord;
use time::OffsetDateTime;

/// Sends in flight at once: the producer batches them, where one at a time
/// would wait a linger per event.
const IN_FLIGHT: usize = 1_000;
/// How long one send may wait for the broker's acknowledgement.
const SEND_WITHIN: Duration = Duration::from_secs(30);

/// The columns that rebuild one event's raw record, and the generation to
/// publish it at. `SELECT` them as `e.id, e.name, e.body, e.event_timestamp,
/// e.accepted_at, e.trace_id, e.correlation_id, e.extra::text AS extra, … AS
/// generation`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct StoredEvent {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) body: String,
    pub(crate) event_timestamp: Option<OffsetDateTime>,
    pub(crate) accepted_at: Option<OffsetDateTime>,
    pub(crate) trace_id: Option<String>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) extra: Option<String>,
    pub(crate) generation: i32,
}

impl StoredEvent {
    /// The raw record as the command service wrote it, at the new generation.
    fn record(self) -> Result<RawEventRecord, String> {
        let extra = match self.extra.as_deref() {
            None => serde_json::Map::new(),
            Some(text) => serde_json::from_str(text)
                .map_err(|error| format!("its unknown fields could not be read: {error}"))?,
        };
        let received_at = self.accepted_at.ok_or("no acceptance time")?;
        Ok(RawEventRecord {
            schema: orch_contracts::SCHEMA_VERSION,
            id: EventId::try_from(self.id)
                .map_err(|error| format!("its stored id is not an event id: {error}"))?,
            name: self.name,
            body: self.body,
            timestamp: self.event_timestamp.unwrap_or(received_at),
            received_at,
            trace_id: self.trace_id.unwrap_or_default(),
            correlation_id: self.correlation_id,
            generation: u32::try_from(self.generation).map_err(|_| "a negative generation")?,
            extra,
        })
    }
}

/// What a republish did.
#[derive(Debug, Default)]
pub(crate) struct Republished {
    /// Ids the broker acknowledged, in order.
    pub(crate) ids: Vec<EventId>,
    /// Ids whose record could not be rebuilt, and why (logged; never sent).
    pub(crate) left_out: Vec<(String, String)>,
    /// Why it stopped before the end, if it did.
    pub(crate) failure: Option<String>,
}

/// Publishes each event to `topic`; `why` names the cause on each record's
/// span (`console_redrive`, `overdue_sweep`).
pub(crate) async fn republish(
    producer: &orch_kafka::FutureProducer,
    topic: &str,
    stored: Vec<StoredEvent>,
    why: &'static str,
) -> Republished {
    let mut done = Republished::default();
    let mut events = Vec::with_capacity(stored.len());
    for row in stored {
        let id = row.id.clone();
        match row.record() {
            Ok(event) => events.push(event),
            Err(reason) => {
                tracing::warn!(event = %id, why, %reason, "Event left out of a republish.");
                done.left_out.push((id, reason));
            }
        }
    }
    for chunk in events.chunks(IN_FLIGHT) {
        let sends = chunk.iter().map(|event| {
            // A republish is a new attempt: its own trace, while the record
            // keeps the trace id the event was accepted with.
            let span = tracing::info_span!("republish_event", event_id = %event.id, why);
            let headers = orch_kafka::record_headers(&orch_telemetry::EventContext::for_span(
                &span,
                event.correlation_id.clone(),
            ));
            let payload = orch_contracts::to_json(event);
            async move {
                producer
                    .send(
                        FutureRecord::to(topic)
                            .key(event.id.as_str())
                            .payload(&payload)
                            .headers(headers),
                        SEND_WITHIN,
                    )
                    .await
                    .map(|_| event.id.clone())
                    .map_err(|(error, _)| format!("Kafka refused event {:?}: {error}", event.id))
            }
        });
        for sent in futures::future::join_all(sends).await {
            match sent {
                Ok(id) => done.ids.push(id),
                Err(error) => {
                    done.failure.get_or_insert(error);
                }
            }
        }
        if done.failure.is_some() {
            break;
        }
    }
    done
}
