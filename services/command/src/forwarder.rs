//! Drains the spool to Kafka, in spool order, and advances the spool's cursor
//! only past records Kafka acknowledged. A crash or restart resumes from the
//! stored cursor; at worst the last unconfirmed batch is sent twice, which the
//! target's idempotency absorbs and the duplicate counters show.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::future::join_all;
use orch_kafka::FutureProducer;
use orch_telemetry::InternalEvent as _;
use rdkafka::producer::FutureRecord;
use tokio_util::sync::CancellationToken;

use crate::internal_events::{SpoolForwarded, SpoolQuarantined, SpoolReadFailed};
use crate::spool::{Entry, Original, QuarantineKind, Spool};
use crate::spooled::SpooledRecord;

/// Records forwarded per round.
const BATCH: usize = 1_000;
/// Waits after Kafka or the disk failed a round.
const RETRY: orch_kafka::Backoff = orch_kafka::Backoff {
    base: Duration::from_millis(100),
    max: Duration::from_secs(30),
};

/// Forwards until `shutdown`.
pub(crate) async fn run(
    spool: Spool,
    producer: FutureProducer,
    topic: Arc<str>,
    shutdown: CancellationToken,
) {
    let shared = spool.shared().clone();
    let mut reader = Some(spool.reader(shared.cursor.load(Ordering::Acquire)));
    let mut waiting: VecDeque<Entry> = VecDeque::new();
    let mut retries = RETRY.retries();
    // A cursor past records Kafka has, not yet stored (the disk refused).
    let mut unstored: Option<(u64, u64)> = None;
    while !shutdown.is_cancelled() {
        if waiting.len() < BATCH {
            let durable = shared.durable_seq.load(Ordering::Acquire);
            let Some(mut taken) = reader.take() else {
                break;
            };
            let room = BATCH - waiting.len();
            let read = tokio::task::spawn_blocking(move || {
                let result = taken.read(durable, room);
                let quarantined = taken.take_quarantined();
                (taken, result, quarantined)
            })
            .await;
            let Ok((returned, result, quarantined)) = read else {
                break;
            };
            reader = Some(returned);
            for item in &quarantined {
                SpoolQuarantined { item }.emit();
            }
            spool.note_quarantined(quarantined.len() as u64);
            match result {
                Ok(entries) => waiting.extend(entries),
                Err(error) => {
                    SpoolReadFailed { error: &error }.emit();
                    pause(&shutdown, retries.failed()).await;
                    continue;
                }
            }
        }
        let oldest = waiting.front().map_or(0, |entry| entry.appended_ms);
        shared.oldest_ms.store(oldest, Ordering::Release);

        // Send the longest prefix whose producer attempt is settled; a record
        // still queued in the producer waits, so it is not sent twice.
        let mut sendable = Vec::new();
        {
            let mut originals = shared.lock_originals();
            for entry in &waiting {
                match originals.get(&entry.seq) {
                    Some(Original::Pending) => break,
                    Some(Original::Delivered) => {
                        originals.remove(&entry.seq);
                        sendable.push((entry.seq, None));
                    }
                    None => sendable.push((entry.seq, Some(SpooledRecord::decode(&entry.payload)))),
                }
            }
        }
        if sendable.is_empty() {
            if let Some((cursor, oldest)) = unstored {
                let store = spool.clone();
                if let Ok(Ok(())) =
                    tokio::task::spawn_blocking(move || store.advance(cursor, oldest)).await
                {
                    unstored = None;
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = shared.appended.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        let seqs: Vec<u64> = sendable.iter().map(|(seq, _)| *seq).collect();
        let payloads: Vec<&[u8]> = waiting
            .iter()
            .take(seqs.len())
            .map(|entry| entry.payload.as_slice())
            .collect();
        let sends = sendable
            .into_iter()
            .zip(payloads)
            .map(|((seq, record), payload)| {
                let producer = producer.clone();
                let topic = topic.clone();
                let spool = &spool;
                async move {
                    match record {
                        None => true,
                        Some(Err(error)) => {
                            let reason = format!("the spooled record does not decode: {error}");
                            keep(spool, seq, QuarantineKind::Undecodable, &reason, payload)
                        }
                        Some(Ok(record)) => {
                            let headers = orch_kafka::record_headers(&record.context());
                            let future_record = FutureRecord::to(&topic)
                                .key(record.key.as_str())
                                .payload(record.value.get().as_bytes())
                                .headers(headers);
                            match producer.send(future_record, Duration::from_secs(5)).await {
                                Ok(_) => true,
                                Err((error, _)) if refused_for_good(&error) => {
                                    let reason = format!("Kafka refuses it for good: {error}");
                                    keep(spool, seq, QuarantineKind::Refused, &reason, payload)
                                }
                                Err(_) => false,
                            }
                        }
                    }
                }
            });
        let results = join_all(sends).await;
        let acked = results.iter().take_while(|ok| **ok).count();
        if acked > 0 {
            let next_cursor = seqs[acked - 1] + 1;
            let next_oldest = waiting.get(acked).map_or(0, |entry| entry.appended_ms);
            let store = spool.clone();
            let stored =
                tokio::task::spawn_blocking(move || store.advance(next_cursor, next_oldest)).await;
            // They are in Kafka either way: never send them again from here
            // (a cursor that could not be stored is stored with the next
            // batch, or retried while idle; only a restart before then
            // sends them twice).
            waiting.drain(..acked);
            SpoolForwarded { records: acked }.emit();
            match stored {
                Ok(Ok(())) => unstored = None,
                Ok(Err(error)) => {
                    tracing::warn!(error = %orch_telemetry::error_chain(&error), "Could not store the spool cursor; retrying. Until it is stored, a restart would send those records again.");
                    unstored = Some((next_cursor, next_oldest));
                    pause(&shutdown, retries.failed()).await;
                }
                Err(_) => break,
            }
        }
        if acked < seqs.len() {
            let retry_in = retries.failed();
            tracing::warn!(
                forwarded = acked,
                retry_in_ms = retry_in.as_millis() as u64,
                "Kafka did not acknowledge spooled records; retrying."
            );
            pause(&shutdown, retry_in).await;
        } else {
            retries.succeeded();
        }
    }
}

/// Whether Kafka will never take this record, however often it is sent.
fn refused_for_good(error: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as Code;
    matches!(
        error.rdkafka_error_code(),
        Some(
            Code::MessageSizeTooLarge
                | Code::InvalidMessageSize
                | Code::InvalidMessage
                | Code::InvalidRecord
                | Code::MessageBatchTooLarge
        )
    )
}

/// Puts one spooled record in the quarantine, so the forwarder can move on;
/// `false` if even that failed (the record stays and is tried again).
fn keep(spool: &Spool, seq: u64, kind: QuarantineKind, reason: &str, payload: &[u8]) -> bool {
    match spool
        .quarantine()
        .keep(&format!("{seq:020}"), kind, reason, Some(seq), payload)
    {
        Ok(item) => {
            SpoolQuarantined { item: &item }.emit();
            spool.note_quarantined(1);
            true
        }
        Err(error) => {
            tracing::error!(error = %orch_telemetry::error_chain(&error), seq, "Could not quarantine a spooled record; it stays in the spool.");
            false
        }
    }
}

/// Waits `delay`, or less if the service is stopping (the loop checks).
async fn pause(shutdown: &CancellationToken, delay: Duration) {
    let _stopping = orch_kafka::wait(shutdown, delay).await;
}

#[cfg(test)]
mod tests {
    use orch_kafka::KafkaConfig;
    use orch_telemetry::EventContext;
    use orch_telemetry::TraceHeaders;

    use super::*;

    fn record(id: &str, value: &str) -> Vec<u8> {
        let context = EventContext {
            trace: TraceHeaders::from_values(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                None,
            )
            .unwrap(),
            correlation_id: None,
        };
        SpooledRecord::new(id, &context, value.as_bytes())
            .unwrap()
            .encode()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn records_kafka_will_never_take_are_quarantined_and_the_rest_are_forwarded() {
        let prefix = orch_testkit::unique_prefix();
        let kafka = KafkaConfig::local(&orch_testkit::bootstrap(), &prefix);
        orch_kafka::ensure_topics(&kafka).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path(), 1 << 30, 1 << 30, 4 << 20).unwrap();
        let too_large = format!(r#"{{"id":"big","body":"{}"}}"#, "x".repeat(2_000_000));
        for payload in [
            record("first", r#"{"id":"first"}"#),
            b"not a spooled record".to_vec(),
            record("big", &too_large),
            record("last", r#"{"id":"last"}"#),
        ] {
            spool.append(payload, false).await.unwrap();
        }
        let producer: FutureProducer = kafka
            .client_config("test")
            .set("message.max.bytes", "1000000")
            .create_with_context(kafka.auth_context())
            .unwrap();
        let shutdown = CancellationToken::new();
        let forwarding = tokio::spawn(run(
            spool.clone(),
            producer,
            kafka.topics().raw.into(),
            shutdown.clone(),
        ));
        let deadline = tokio::time::Instant::now() + orch_testkit::PATIENCE;
        while spool.stats().depth > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the forwarder got stuck: {:?}",
                spool.stats()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        shutdown.cancel();
        forwarding.await.unwrap();
        let kept = spool.quarantine().items().unwrap();
        let kinds: Vec<_> = kept.iter().map(|item| (item.kind, item.seq)).collect();
        assert_eq!(
            kinds,
            [
                (QuarantineKind::Undecodable, Some(1)),
                (QuarantineKind::Refused, Some(2))
            ]
        );
        assert_eq!(spool.stats().quarantined, 2);
        let forwarded =
            orch_testkit::topic_size(&orch_testkit::bootstrap(), &kafka.topics().raw).await;
        assert_eq!(forwarded, 2, "first and last reached Kafka");
    }
}
