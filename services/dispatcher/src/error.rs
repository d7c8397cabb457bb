/// Why the dispatcher could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The topics could not be created or checked.
    #[error("could not prepare the Kafka topics")]
    Topics(#[from] orch_kafka::TopicSetupError),
    /// A Kafka client could not be created or subscribed.
    #[error("could not set up the Kafka clients")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The HTTP client for the target could not be built.
    #[error("could not build the HTTP client for the target")]
    HttpClient(#[from] reqwest::Error),
    /// The delivery controls could not be read.
    #[error("could not read the delivery controls")]
    Controls(#[from] orch_kafka::ControlsError),
    /// A setting is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The health listener could not be bound or served.
    #[error("could not serve HTTP")]
    Http(#[from] std::io::Error),
}
