/// Why the query service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Postgres could not be reached or migrated.
    #[error("could not prepare the database")]
    Database(#[from] sqlx::Error),
    /// The schema migrations failed.
    #[error("could not migrate the database")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The topics could not be created or checked.
    #[error("could not prepare the Kafka topics")]
    Topics(#[from] orch_kafka::TopicSetupError),
    /// The consumer could not be created or subscribed.
    #[error("could not set up the Kafka consumer")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The object store client could not be built.
    #[error("could not set up the object store")]
    Objects(#[from] orch_objects::ObjectsError),
    /// The delivery controls in force could not be read.
    #[error("could not read the delivery controls")]
    Controls(#[from] orch_kafka::ControlsError),
    /// A setting is out of range; the message names it.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The listen address could not be bound or served.
    #[error("could not serve HTTP")]
    Http(#[from] std::io::Error),
}
