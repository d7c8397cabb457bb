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

use crate::internal_events::{SpoolForwarded, SpoolReadFailed};
use crate::spool::{Entry, Original, ReadError, Reader, Spool};
use crate::spooled::SpooledRecord;

/// Records forwarded per round.
const BATCH: usize = 1_000;
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Forwards until `shutdown`.
pub(crate) async fn run(
    spool: Spool,
    producer: FutureProducer,
    topic: Arc<str>,
    shutdown: CancellationToken,
) {
    let shared = spool.shared().clone();
    let mut reader = Some(Reader::new(
        spool.dir().to_owned(),
        shared.cursor.load(Ordering::Acquire),
    ));
    let mut waiting: VecDeque<Entry> = VecDeque::new();
    let mut backoff = Duration::from_millis(100);
    while !shutdown.is_cancelled() {
        if waiting.len() < BATCH {
            let durable = shared.durable_seq.load(Ordering::Acquire);
            let Some(mut taken) = reader.take() else {
                break;
            };
            let room = BATCH - waiting.len();
            let read = tokio::task::spawn_blocking(move || {
                let result = taken.read(durable, room);
                (taken, result)
            })
            .await;
            let Ok((returned, result)) = read else { break };
            reader = Some(returned);
            match result {
                Ok(entries) => waiting.extend(entries),
                Err(error @ ReadError::Corrupt { .. }) => {
                    SpoolReadFailed::Corrupt(&error).emit();
                    pause(&shutdown, MAX_BACKOFF).await;
                    continue;
                }
                Err(error) => {
                    SpoolReadFailed::Io(&error).emit();
                    pause(&shutdown, backoff).await;
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
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = shared.appended.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        let seqs: Vec<u64> = sendable.iter().map(|(seq, _)| *seq).collect();
        let sends = sendable.into_iter().map(|(_, record)| {
            let producer = producer.clone();
            let topic = topic.clone();
            async move {
                match record {
                    None => true,
                    Some(Err(error)) => {
                        // Written by us and checksummed, so this is a bug; keep it in
                        // the spool rather than drop it.
                        tracing::error!(%error, "A spooled record cannot be decoded.");
                        false
                    }
                    Some(Ok(record)) => {
                        let headers = record.context().headers();
                        let future_record = FutureRecord::to(&topic)
                            .key(record.key.as_str())
                            .payload(record.value.get().as_bytes())
                            .headers(headers);
                        producer
                            .send(future_record, Duration::from_secs(5))
                            .await
                            .is_ok()
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
            match tokio::task::spawn_blocking(move || store.advance(next_cursor, next_oldest)).await
            {
                Ok(Ok(())) => {
                    waiting.drain(..acked);
                    SpoolForwarded { records: acked }.emit();
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "Could not store the spool cursor; those records will be sent again.")
                }
                Err(_) => break,
            }
        }
        if acked < seqs.len() {
            tracing::warn!(
                forwarded = acked,
                retry_in_ms = backoff.as_millis() as u64,
                "Kafka did not acknowledge spooled records; retrying."
            );
            pause(&shutdown, backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        } else {
            backoff = Duration::from_millis(100);
        }
    }
}

async fn pause(shutdown: &CancellationToken, delay: Duration) {
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(delay) => {}
    }
}
