//! The archive benchmark's parts: filling the DLQ, and its ceiling — one
//! bare multipart upload of as many bytes as the archive wrote. Prints one
//! JSON object.
//!
//! Usage (`KAFKA_BOOTSTRAP_SERVERS`, `KAFKA_TOPIC_PREFIX`; `OBJECT_STORE_*`
//! and the AWS variables):
//!   `archive_baseline fill COUNT`   COUNT dead letters into the DLQ topic
//!   `archive_baseline upload BYTES` one multipart upload of BYTES, 8 MiB parts

use std::time::{Duration, Instant};

use clap::Parser;
use object_store::{ObjectStore, WriteMultipart};
use orch_contracts::{DeadLetterRecord, ErrorKind, RawEventRecord};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use time::OffsetDateTime;

#[derive(Debug, clap::Parser)]
struct Args {
    /// `fill` or `upload`.
    what: String,
    /// Records (fill) or bytes (upload).
    count: u64,
    #[command(flatten)]
    kafka: orch_kafka::KafkaConfig,
    #[command(flatten)]
    objects: orch_objects::ObjectStoreConfig,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    match args.what.as_str() {
        "fill" => {
            orch_kafka::ensure_topics(&args.kafka).await?;
            let producer: FutureProducer = args
                .kafka
                .client_config("archive-bench")
                .set("linger.ms", "20")
                .create()?;
            let topic = args.kafka.topics().dlq;
            for n in 0..args.count {
                let id = format!("bench-poison-{n:08}");
                let event = RawEventRecord::new(
                    orch_contracts::EventId::parse(&id).map_err(anyhow::Error::msg)?,
                    "order.created".into(),
                    format!("a body the target refused, number {n}"),
                    OffsetDateTime::now_utc(),
                    format!("{n:032x}"),
                    Default::default(),
                );
                let letter = DeadLetterRecord::new(
                    event,
                    "acme".into(),
                    ErrorKind::ClientError,
                    "HTTP 400: bad item".into(),
                    vec![],
                );
                let payload = serde_json::to_vec(&letter)?;
                loop {
                    match producer.send_result(FutureRecord::to(&topic).key(&id).payload(&payload))
                    {
                        Ok(_) => break,
                        Err(_) => producer.poll(Duration::from_millis(10)),
                    }
                }
            }
            producer.flush(Duration::from_secs(60))?;
            println!(
                "{{\"filled\": {}, \"seconds\": {:.3}}}",
                args.count,
                started.elapsed().as_secs_f64()
            );
        }
        "upload" => {
            let objects = orch_objects::Objects::connect(&args.objects)?;
            let key = objects.key("bench/bare-upload.bin");
            let upload = objects.s3().put_multipart(&key).await?;
            let mut file = WriteMultipart::new_with_chunk_size(upload, 8 * 1024 * 1024);
            // Not all zeros: a store that compresses or deduplicates must not gain.
            let chunk: Vec<u8> = (0..1024 * 1024u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            let mut left = args.count;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                file.wait_for_capacity(2).await?;
                file.write(&chunk[..n]);
                left -= n as u64;
            }
            file.finish().await?;
            let seconds = started.elapsed().as_secs_f64();
            objects.s3().delete(&key).await?;
            println!(
                "{{\"bytes\": {}, \"seconds\": {seconds:.3}, \"bytes_per_sec\": {:.1}}}",
                args.count,
                args.count as f64 / seconds
            );
        }
        other => anyhow::bail!("unknown part {other:?}: fill or upload"),
    }
    Ok(())
}
