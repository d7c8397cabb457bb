use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use crate::KafkaConfig;

/// Why the topics could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum TopicSetupError {
    /// The admin client could not be built from the configuration.
    #[error("could not create a Kafka admin client")]
    Client(#[source] KafkaError),
    /// The create request itself failed (broker unreachable, timeout).
    #[error("could not reach Kafka to create topics")]
    Request(#[source] KafkaError),
    /// The broker refused to create a topic.
    #[error("Kafka refused to create topic {topic}: {code}")]
    Refused {
        /// The topic name.
        topic: String,
        /// The broker's reason.
        code: RDKafkaErrorCode,
    },
}

/// Creates the deployment's three topics if they are missing; existing topics
/// are left exactly as they are (partitions are never changed behind ops' back).
pub async fn ensure_topics(config: &KafkaConfig) -> Result<(), TopicSetupError> {
    let admin: AdminClient<DefaultClientContext> = config
        .client_config("orchestrator-admin")
        .create()
        .map_err(TopicSetupError::Client)?;
    let topics = config.topics();
    let retention = config.kafka_topic_retention_ms.to_string();
    let new_topics: Vec<NewTopic<'_>> = topics
        .all()
        .into_iter()
        .map(|name| {
            NewTopic::new(
                name,
                config.kafka_topic_partitions,
                TopicReplication::Fixed(config.kafka_topic_replication_factor),
            )
            .set("retention.ms", &retention)
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(TopicSetupError::Request)?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(%topic, "Created topic."),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(TopicSetupError::Refused { topic, code }),
        }
    }
    Ok(())
}
