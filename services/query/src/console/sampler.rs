//! What the delivery page charts over the last hour and shows now: the
//! dispatchers' lag per partition, the projection's lag and the DLQ's end,
//! sampled every few seconds in the background (each replica of the query
//! service keeps its own hour; a restart starts a new one).

use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use orch_kafka::{BaseConsumer, KafkaConfig, PartitionEnds};
use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::replicas::Replicas;

/// How often a sample is taken.
const EVERY: Duration = Duration::from_secs(10);
/// Samples kept: one hour.
const KEPT: usize = 360;
/// How long one Kafka request may take.
const REQUEST: Duration = Duration::from_secs(5);

/// One partition of the raw topic as the dispatchers stand on it.
#[derive(Debug, Clone)]
pub(crate) struct PartitionLag {
    pub(crate) partition: i32,
    pub(crate) end: i64,
    /// The group's committed offset; `None` before its first commit.
    pub(crate) committed: Option<i64>,
    /// Records not yet taken by the group (from the oldest kept, before a
    /// first commit).
    pub(crate) lag: i64,
}

/// One look at the pipeline.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) at: OffsetDateTime,
    pub(crate) dispatch_lag: Option<i64>,
    pub(crate) projection_lag: Option<i64>,
    /// Sum of the DLQ's high watermarks: its growth is the dead letters written.
    pub(crate) dlq_end: Option<i64>,
    /// Sum of the raw topic's high watermarks: its growth is the events
    /// accepted (and redriven).
    pub(crate) raw_end: Option<i64>,
    /// Events delivered since the sample before (by the read model).
    pub(crate) delivered: Option<i64>,
    pub(crate) partitions: Vec<PartitionLag>,
    pub(crate) error: Option<String>,
}

/// Samples and the replicas to ask, shared by the delivery pages.
#[derive(Debug)]
pub(crate) struct DeliveryProbe {
    pub(crate) replicas: Replicas,
    samples: Mutex<VecDeque<Sample>>,
}

impl DeliveryProbe {
    pub(crate) fn new(replicas: Replicas) -> Self {
        Self {
            replicas,
            samples: Mutex::new(VecDeque::with_capacity(KEPT)),
        }
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, VecDeque<Sample>> {
        self.samples.lock()
    }

    /// The last hour's samples, oldest first.
    pub(crate) fn samples(&self) -> Vec<Sample> {
        self.lock().iter().cloned().collect()
    }

    /// The group rate in force, as the first replica that answers says.
    pub(crate) async fn group_rate(&self) -> Option<u32> {
        self.replicas
            .ask()
            .await
            .into_iter()
            .find_map(|answer| answer.status.ok())
            .map(|status| status.rate.group_per_second)
    }

    fn keep(&self, sample: Sample) {
        let mut samples = self.lock();
        if samples.len() == KEPT {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    /// Samples every 10 s until `shutdown`, off the runtime's threads.
    pub(crate) async fn run(
        self: Arc<Self>,
        pool: PgPool,
        kafka: KafkaConfig,
        dispatcher_group: String,
        projector_group: String,
        shutdown: CancellationToken,
    ) {
        let clients = tokio::task::spawn_blocking(move || {
            Clients::new(&kafka, &dispatcher_group, &projector_group)
        })
        .await;
        let clients = match clients {
            Ok(Ok(clients)) => Arc::new(clients),
            Ok(Err(error)) => {
                tracing::error!(error = %orch_telemetry::error_chain(&error), "The delivery page cannot read Kafka; its lag charts stay empty.");
                return;
            }
            Err(_) => return,
        };
        let mut since = OffsetDateTime::now_utc();
        loop {
            let look = clients.clone();
            if let Ok(mut sample) = tokio::task::spawn_blocking(move || look.sample()).await {
                // Delivered per window, by an index range on delivered_at.
                let delivered = sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM events WHERE delivered_at >= $1 AND delivered_at < $2",
                )
                .bind(since)
                .bind(sample.at)
                .fetch_one(&pool)
                .await;
                match delivered {
                    Ok(count) => sample.delivered = Some(count),
                    Err(error) => sample.error = Some(format!("delivered: {error}")),
                }
                since = sample.at;
                self.keep(sample);
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(EVERY) => {}
            }
        }
    }
}

/// One client per consumer group whose commits are read.
struct Clients {
    topics: orch_contracts::Topics,
    dispatchers: BaseConsumer,
    projector: BaseConsumer,
}

impl Clients {
    fn new(
        kafka: &KafkaConfig,
        dispatcher_group: &str,
        projector_group: &str,
    ) -> Result<Self, rdkafka::error::KafkaError> {
        // A group id lets the client read that group's commits; nothing is
        // subscribed, so the group itself is never joined.
        let client = |group: &str| -> Result<BaseConsumer, rdkafka::error::KafkaError> {
            kafka
                .client_config("orch-query-console")
                .set("group.id", group)
                .set("enable.auto.commit", "false")
                .create_with_context(kafka.auth_context())
        };
        Ok(Self {
            topics: kafka.topics(),
            dispatchers: client(dispatcher_group)?,
            projector: client(projector_group)?,
        })
    }

    fn sample(&self) -> Sample {
        let mut sample = Sample {
            at: OffsetDateTime::now_utc(),
            dispatch_lag: None,
            projection_lag: None,
            dlq_end: None,
            raw_end: None,
            delivered: None,
            partitions: Vec::new(),
            error: None,
        };
        match lag(&self.dispatchers, &self.topics.raw) {
            Ok((partitions, total)) => {
                sample.raw_end = Some(partitions.iter().map(|p| p.end).sum());
                sample.partitions = partitions;
                sample.dispatch_lag = Some(total);
            }
            Err(error) => sample.error = Some(format!("dispatcher lag: {error}")),
        }
        let projection = [&self.topics.raw, &self.topics.status]
            .into_iter()
            .map(|topic| lag(&self.projector, topic).map(|(_, total)| total))
            .sum::<Result<i64, _>>();
        match projection {
            Ok(total) => sample.projection_lag = Some(total),
            Err(error) => sample.error = Some(format!("projection lag: {error}")),
        }
        match orch_kafka::partition_ends(&self.dispatchers, &self.topics.dlq, REQUEST) {
            Ok(ends) => sample.dlq_end = Some(ends.iter().map(|p| p.high).sum()),
            Err(error) => sample.error = Some(format!("DLQ: {error}")),
        }
        sample
    }
}

/// Each partition's lag for the client's group on `topic`, and the total.
fn lag(
    client: &BaseConsumer,
    topic: &str,
) -> Result<(Vec<PartitionLag>, i64), rdkafka::error::KafkaError> {
    let ends: Vec<PartitionEnds> = orch_kafka::partition_ends(client, topic, REQUEST)?;
    let mut asked = TopicPartitionList::new();
    for end in &ends {
        asked.add_partition(topic, end.partition);
    }
    let committed = client.committed_offsets(asked, REQUEST)?;
    let mut partitions = Vec::with_capacity(ends.len());
    let mut total = 0;
    for end in ends {
        let committed = committed
            .find_partition(topic, end.partition)
            .and_then(|p| match p.offset() {
                Offset::Offset(offset) => Some(offset),
                _ => None,
            });
        let lag = (end.high - committed.unwrap_or(end.low)).max(0);
        total += lag;
        partitions.push(PartitionLag {
            partition: end.partition,
            end: end.high,
            committed,
            lag,
        });
    }
    Ok((partitions, total))
}
