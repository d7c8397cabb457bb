/// Why the command service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The topics could not be created or checked.
    #[error("could not prepare the Kafka topics")]
    Topics(#[from] orch_kafka::TopicSetupError),
    /// The producer could not be created from the configuration.
    #[error("could not create the Kafka producer")]
    Producer(#[source] rdkafka::error::KafkaError),
    /// The listen address could not be bound or served.
    #[error("could not serve HTTP")]
    Http(#[from] std::io::Error),
}
