use orch_contracts::DeadLetterRecord;
use rdkafka::Message;

use crate::support::{Options, event, spawn_pipeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_target_refuses_is_dead_lettered_with_its_reason() {
    // The target answers 401 to a wrong token: a 4xx that no retry can fix.
    let pipeline = spawn_pipeline(Options {
        dispatcher_token: Some("wrong-token".into()),
        ..Options::default()
    })
    .await;
    assert_eq!(pipeline.post_event(&event("refused")).await.status(), 202);

    let view = pipeline.await_status("refused", "dead_lettered").await;
    assert_eq!(view["last_error_kind"], "client_error");
    assert_eq!(view["last_http_status"], 401);
    assert_eq!(view["attempts"], 1);

    let letters = pipeline.read_topic(&pipeline.kafka.topics().dlq, 1).await;
    let letter: DeadLetterRecord = serde_json::from_slice(letters[0].payload().unwrap()).unwrap();
    assert_eq!(letter.id, "refused");
    assert_eq!(letter.brand, "testBrand");
    assert_eq!(letter.attempts.len(), 1);
    assert_eq!(letter.event.name, "test event");
    assert_eq!(pipeline.target_stats().await.accepted, 0);
}
