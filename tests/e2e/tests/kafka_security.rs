//! The services on a broker that demands SASL_SSL with SCRAM-SHA-512, as MSK
//! does: with the credentials they deliver; without them each refuses to
//! start and says why.

use orch_kafka::{KafkaSecurity, SaslMechanism, SecurityProtocol};
use orch_testkit::Broker;
use secrecy::SecretString;

use crate::support::{Options, event, spawn_pipeline};

const USER: &str = "orch";
const PASSWORD: &str = "orch-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_credentials_the_services_deliver_over_sasl_ssl_and_without_them_they_refuse_to_start()
{
    let broker = tokio::task::spawn_blocking(|| Broker::start_with_scram(USER, PASSWORD))
        .await
        .unwrap();
    let security = |password: Option<&str>| KafkaSecurity {
        kafka_security_protocol: SecurityProtocol::SaslSsl,
        kafka_sasl_mechanism: Some(SaslMechanism::ScramSha512),
        kafka_sasl_username: Some(USER.into()),
        kafka_sasl_password: password.map(|p| SecretString::from(p.to_owned())),
        kafka_ssl_ca_location: Some(broker.ca_location()),
        aws_region: None,
    };
    let pipeline = spawn_pipeline(Options {
        kafka: Some((
            broker.sasl_ssl_bootstrap().unwrap(),
            security(Some(PASSWORD)),
        )),
        ..Options::default()
    })
    .await;

    assert_eq!(pipeline.post_event(&event("secured")).await.status(), 202);
    let view = pipeline.await_status("secured", "delivered").await;
    assert_eq!(view["attempts"], 1);

    // A wrong password: Kafka's refusal, named, and no service running.
    let mut command = pipeline.command_config.clone();
    command.kafka.security = security(Some("wrong"));
    command.listen_addr = "127.0.0.1:0".parse().unwrap();
    command.spool_dir = tempfile::tempdir().unwrap().keep();
    let refused =
        orch_telemetry::error_chain(&orch_command::Application::build(command).await.unwrap_err());
    assert!(refused.contains("invalid credentials"), "{refused}");
    assert!(refused.contains("KAFKA_SASL_"), "{refused}");

    let mut dispatcher = pipeline.dispatcher_config.clone();
    dispatcher.kafka.security = security(Some("wrong"));
    let refused = orch_telemetry::error_chain(
        &orch_dispatcher::Application::build(dispatcher)
            .await
            .unwrap_err(),
    );
    assert!(refused.contains("invalid credentials"), "{refused}");

    let mut query = pipeline.query_config.clone();
    query.kafka.security = security(Some("wrong"));
    let refused =
        orch_telemetry::error_chain(&orch_query::Application::build(query).await.unwrap_err());
    assert!(refused.contains("invalid credentials"), "{refused}");

    // No password at all: refused before any connection, the variable named.
    let mut command = pipeline.command_config.clone();
    command.kafka.security = security(None);
    let refused =
        orch_telemetry::error_chain(&orch_command::Application::build(command).await.unwrap_err());
    assert!(
        refused.contains("KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"),
        "{refused}"
    );
    // The consumers leave their groups while the broker still answers.
    pipeline.stop().await;
    drop(broker);
}
