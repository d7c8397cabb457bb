//! What every service needs to talk to Kafka: one typed configuration, topic
//! creation at start-up, the record headers that carry trace context,
//! consumer lag as a metric, the durable producer and the final commit,
//! jittered backoff for every retry loop, and the client contexts that
//! answer MSK IAM's token requests.

mod auth;
mod commit;
mod config;
mod controls;
mod ends;
mod headers;
mod lag;
#[cfg(feature = "msk-iam")]
mod msk_iam;
mod retry;
mod security;
#[doc(hidden)]
pub mod span;
mod topics;

pub use auth::{
    AuthContext, BaseConsumer, FutureProducer, StreamConsumer, TOKEN_AUTH_BUILT, TokenSource,
};
pub use commit::{Committed, commit_stored};
pub use config::KafkaConfig;
pub use controls::{ControlReader, ControlSink, ControlsError};
pub use ends::{PartitionEnds, partition_ends};
pub use headers::{KafkaHeaders, header_str, record_headers};
pub use lag::{STATISTICS_INTERVAL_MS, record_consumer_lag};
pub use retry::{Backoff, Cancelled, Retries, wait};
pub use security::{KafkaSecurity, SaslMechanism, SecurityConfigError, SecurityProtocol};
pub use topics::{TopicSetupError, ensure_topics, topic_max_message_bytes};
