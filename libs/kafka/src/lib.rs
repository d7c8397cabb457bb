//! What every service needs to talk to Kafka: one typed configuration, topic
//! creation at start-up, and the record headers that carry trace context.

mod config;
mod headers;
mod topics;

pub use config::KafkaConfig;
pub use headers::{header_str, record_headers};
pub use topics::{TopicSetupError, ensure_topics};
