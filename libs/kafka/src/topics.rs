use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;

use crate::KafkaConfig;

/// Why the topics could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum TopicSetupError {
    /// The TLS/SASL settings cannot work.
    #[error("invalid Kafka security settings: {0}")]
    Security(#[from] crate::SecurityConfigError),
    /// The admin client could not be built from the configuration.
    #[error("could not create a Kafka admin client")]
    Client(#[source] KafkaError),
    /// The brokers refused our credentials or TLS: a setting to fix, not an
    /// outage to wait out.
    #[error(
        "Kafka refused the connection's credentials or TLS (check KAFKA_SASL_* and KAFKA_SSL_CA_LOCATION): {0}"
    )]
    Authentication(String),
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

/// Creates the deployment's topics if they are missing; existing topics are
/// left exactly as they are (partitions are never changed behind ops' back).
/// The three event topics share the configured partitions and retention; the
/// control topic is compacted with one partition: it holds a handful of keys
/// whose latest values are the state in force, kept for ever.
pub async fn ensure_topics(config: &KafkaConfig) -> Result<(), TopicSetupError> {
    config.security.check()?;
    check_credentials(config).await?;
    let admin: AdminClient<crate::AuthContext> = config
        .client_config("orchestrator-admin")
        .create_with_context(config.auth_context())
        .map_err(TopicSetupError::Client)?;
    let topics = config.topics();
    let retention = config.kafka_topic_retention_ms.to_string();
    let replication = || TopicReplication::Fixed(config.kafka_topic_replication_factor);
    let mut new_topics: Vec<NewTopic<'_>> = topics
        .events()
        .into_iter()
        .map(|name| {
            NewTopic::new(name, config.kafka_topic_partitions, replication())
                .set("retention.ms", &retention)
        })
        .collect();
    new_topics.push(
        NewTopic::new(&topics.control, 1, replication())
            .set("cleanup.policy", "compact")
            // A change should be compacted away only long after every replica
            // has read it; a few records are no storage worth reclaiming.
            .set("min.compaction.lag.ms", "86400000"),
    );
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

/// How long the credential check waits for a broker to answer.
const CREDENTIALS_WAIT: Duration = Duration::from_secs(30);

/// Connects once and fails fast if the brokers refuse our credentials or TLS.
/// A refused login never answers a request; librdkafka reports it as a client
/// error instead, which only a polled client sees. An unreachable broker is
/// not an error here: the caller's own request reports it.
async fn check_credentials(config: &KafkaConfig) -> Result<(), TopicSetupError> {
    let watch = AuthWatch {
        failure: Arc::default(),
        tokens: config.security.tokens(),
    };
    let probe: BaseProducer<AuthWatch> = config
        .client_config("orchestrator-probe")
        .create_with_context(watch.clone())
        .map_err(TopicSetupError::Client)?;
    let outcome = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + CREDENTIALS_WAIT;
        while std::time::Instant::now() < deadline {
            probe.poll(Duration::from_millis(100));
            if let Some(reason) = watch.failure() {
                return Err(TopicSetupError::Authentication(reason));
            }
            if probe
                .client()
                .fetch_metadata(None, Duration::from_millis(200))
                .is_ok()
            {
                return Ok(());
            }
        }
        Ok(())
    })
    .await;
    outcome.unwrap_or(Ok(()))
}

/// Remembers an authentication or TLS failure reported by librdkafka.
#[derive(Debug, Clone)]
struct AuthWatch {
    failure: Arc<Mutex<Option<String>>>,
    tokens: crate::TokenSource,
}

impl AuthWatch {
    fn failure(&self) -> Option<String> {
        self.failure.lock().clone()
    }
}

impl ClientContext for AuthWatch {
    crate::answer_token_requests!(tokens);

    fn error(&self, error: KafkaError, reason: &str) {
        let code = error.rdkafka_error_code();
        if matches!(
            code,
            Some(
                RDKafkaErrorCode::Authentication
                    | RDKafkaErrorCode::SaslAuthenticationFailed
                    | RDKafkaErrorCode::SSL
            )
        ) {
            *self.failure.lock() = Some(reason.to_owned());
        } else {
            // An unreachable broker is the caller's to report, once.
            tracing::debug!(error = %orch_telemetry::error_chain(&error), reason, "Kafka client error during the credential check.");
        }
    }
}

impl ProducerContext for AuthWatch {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}

/// The topic's `max.message.bytes` (the broker's default when the topic does
/// not set it), or `None` when the brokers do not say within 10 s.
pub async fn topic_max_message_bytes(config: &KafkaConfig, topic: &str) -> Option<usize> {
    use rdkafka::admin::{ConfigSource, ResourceSpecifier};
    let admin: AdminClient<crate::AuthContext> = config
        .client_config("orchestrator-admin")
        .create_with_context(config.auth_context())
        .ok()?;
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let results = admin
        .describe_configs(&[ResourceSpecifier::Topic(topic)], &options)
        .await
        .ok()?;
    let resource = results.into_iter().next()?.ok()?;
    let entry = resource.get("max.message.bytes")?;
    if matches!(entry.source, ConfigSource::Unknown) {
        return None;
    }
    entry.value.as_deref()?.parse().ok()
}
