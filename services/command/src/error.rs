/// Why the command service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The producer could not be created from the configuration.
    #[error("could not create the Kafka producer")]
    Producer(#[source] rdkafka::error::KafkaError),
    /// The Kafka TLS/SASL settings cannot work, or Kafka refused them.
    #[error("{0}")]
    KafkaRefused(orch_kafka::TopicSetupError),
    /// Settings that cannot work together.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The spool directory could not be opened.
    #[error("could not open the spool")]
    Spool(#[from] crate::spool::SpoolOpenError),
    /// The listen address could not be bound or served.
    #[error("could not serve HTTP")]
    Http(#[from] std::io::Error),
}
