//! A topic being created is waited for; one that is ready is read at once.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::RDKafkaErrorCode;

#[tokio::test]
async fn a_topic_created_while_we_look_is_waited_for_and_then_read_to_its_ends() {
    let topic = format!("{}control", orch_testkit::unique_prefix());
    let config = {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", orch_testkit::bootstrap());
        config
    };
    let consumer: BaseConsumer = config.create().expect("consumer");
    let absent = orch_kafka::partition_ends(&consumer, &topic, Duration::ZERO)
        .expect_err("a topic that does not exist yet has no ends");
    assert_eq!(
        absent.rdkafka_error_code(),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition),
        "{absent}"
    );

    let admin: AdminClient<DefaultClientContext> = config.create().expect("admin");
    let name = topic.clone();
    let creator = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let new = NewTopic::new(&name, 3, TopicReplication::Fixed(1));
        admin
            .create_topics([&new], &AdminOptions::new())
            .await
            .expect("create")
    });
    let looked = topic.clone();
    let ends = tokio::task::spawn_blocking(move || {
        orch_kafka::partition_ends(&consumer, &looked, Duration::from_secs(30))
    })
    .await
    .expect("join")
    .expect("the topic is waited for, not refused");
    creator.await.expect("join");
    let mut partitions: Vec<i32> = ends.iter().map(|p| p.partition).collect();
    partitions.sort_unstable();
    assert_eq!(partitions, [0, 1, 2]);
    assert!(ends.iter().all(|p| p.low == 0 && p.high == 0), "{ends:?}");
}
