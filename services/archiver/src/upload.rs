//! Writing one closed object: the data, then its manifest entry, then the
//! offset commit — in that order, each retried until it succeeds or the
//! partition is no longer ours. A crash between steps re-consumes from the
//! last commit and re-writes the same keys, so the archive never holds a
//! record twice; and because the next object of a partition is written only
//! after this one's commit succeeded, no object ever starts beyond the
//! committed offset.

use std::sync::Arc;
use std::time::{Duration, Instant};

use object_store::{ObjectStore, PutPayload};
use orch_objects::Objects;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::batch::Sealed;
use crate::context::ArchiveConsumer;
use crate::ownership::Ownership;

/// What writing an object came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// Stored, listed in the manifest, and its offsets committed.
    Done,
    /// The partition moved to another replica first; the new owner
    /// re-reads these records from the last commit.
    Fenced,
}

/// Everything a write needs.
#[derive(Clone)]
pub(crate) struct Uploader {
    pub(crate) objects: Objects,
    pub(crate) consumer: Arc<ArchiveConsumer>,
    pub(crate) ownership: Arc<Ownership>,
    pub(crate) retry_max: Duration,
}

impl std::fmt::Debug for Uploader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploader").finish_non_exhaustive()
    }
}

/// Why one step of a write failed (it is retried).
#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("the object store refused the write")]
    Store(#[from] object_store::Error),
    #[error("Kafka refused the commit")]
    Commit(#[from] rdkafka::error::KafkaError),
    #[error("the commit task failed")]
    Join(#[from] tokio::task::JoinError),
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Data,
    Manifest,
    Commit,
}

impl Step {
    fn as_str(self) -> &'static str {
        match self {
            Step::Data => "data",
            Step::Manifest => "manifest",
            Step::Commit => "commit",
        }
    }
}

impl Uploader {
    /// Writes `sealed`, owned under `epoch`, retrying each step.
    pub(crate) async fn write(&self, sealed: Sealed, epoch: u64) -> Written {
        let started = Instant::now();
        let entry = &sealed.entry;
        let manifest = serde_json::to_vec_pretty(entry).unwrap_or_default();
        for step in [Step::Data, Step::Manifest, Step::Commit] {
            let mut retries = orch_kafka::Backoff {
                base: Duration::from_millis(100),
                max: self.retry_max,
            }
            .retries();
            loop {
                let Some(_hold) = self.ownership.hold(entry.partition, epoch) else {
                    return Written::Fenced;
                };
                let result = match step {
                    Step::Data => self.put(&entry.object, sealed.data.clone().into()).await,
                    Step::Manifest => {
                        let key = orch_objects::manifest_key(entry.partition, entry.first_offset);
                        self.put(&key, manifest.clone().into()).await
                    }
                    Step::Commit => {
                        self.commit(&entry.topic, entry.partition, entry.last_offset + 1)
                            .await
                    }
                };
                let pause = match result {
                    Ok(()) => break,
                    Err(error) => {
                        let error = orch_telemetry::error_chain(&error);
                        let pause = retries.failed();
                        metrics::counter!("orch_archiver_write_failures_total", "step" => step.as_str())
                            .increment(1);
                        tracing::warn!(
                            error = %error,
                            step = step.as_str(),
                            object = %entry.object,
                            retry_in_ms = pause.as_millis() as u64,
                            "Writing an archive object failed; retrying."
                        );
                        pause
                    }
                };
                drop(_hold);
                tokio::time::sleep(pause).await;
            }
        }
        metrics::counter!("orch_archiver_records_archived_total").increment(entry.records);
        metrics::counter!("orch_archiver_bytes_archived_total").increment(entry.bytes);
        metrics::counter!("orch_archiver_objects_written_total").increment(1);
        metrics::histogram!("orch_archiver_object_write_seconds")
            .record(started.elapsed().as_secs_f64());
        tracing::debug!(
            object = %entry.object,
            records = entry.records,
            bytes = entry.bytes,
            "Archive object written."
        );
        Written::Done
    }

    async fn put(&self, key: &str, payload: PutPayload) -> Result<(), StepError> {
        self.objects
            .s3()
            .put(&self.objects.key(key), payload)
            .await?;
        Ok(())
    }

    async fn commit(&self, topic: &str, partition: i32, next: i64) -> Result<(), StepError> {
        let mut offsets = TopicPartitionList::new();
        offsets.add_partition_offset(topic, partition, Offset::Offset(next))?;
        let consumer = self.consumer.clone();
        tokio::task::spawn_blocking(move || consumer.commit(&offsets, CommitMode::Sync)).await??;
        Ok(())
    }
}
