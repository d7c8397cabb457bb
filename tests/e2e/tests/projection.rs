use std::time::Duration;

use orch_contracts::{ErrorKind, Status, StatusRecord};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::support::{Options, bootstrap, event, spawn_pipeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_or_replayed_status_never_moves_an_event_backwards() {
    let pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        ..Options::default()
    })
    .await;
    assert_eq!(pipeline.post_event(&event("late")).await.status(), 202);
    pipeline.await_status("late", "accepted").await;

    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .unwrap();
    let topic = pipeline.kafka.topics().status;
    let send = |record: StatusRecord| {
        let producer = producer.clone();
        let topic = topic.clone();
        async move {
            let payload = orch_contracts::to_json(&record);
            producer
                .send(
                    FutureRecord::to(&topic).key("late").payload(&payload),
                    Duration::from_secs(10),
                )
                .await
                .expect("status record produced");
        }
    };
    let retrying = StatusRecord {
        error_kind: Some(ErrorKind::ServerError),
        error_message: Some("HTTP 503".into()),
        http_status: Some(503),
        ..StatusRecord::new("late", Status::Retrying, 1, "t", 0)
    };
    let delivered = StatusRecord {
        http_status: Some(200),
        brand: Some("testBrand".into()),
        ..StatusRecord::new("late", Status::Delivered, 2, "t", 0)
    };
    // Delivered first, then the older retrying record arrives late, then a replay.
    send(delivered.clone()).await;
    pipeline.await_status("late", "delivered").await;
    send(retrying.clone()).await;
    send(delivered).await;
    send(retrying).await;
    // A marker behind them on the same partition (same key) shows they were all projected.
    let marker = StatusRecord::new("late", Status::Retrying, 1, "t", 0);
    send(StatusRecord {
        error_message: Some("marker".into()),
        ..marker
    })
    .await;
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    loop {
        let (_, view) = pipeline.get_event("late").await;
        let steps = view["history"].as_array().map_or(0, Vec::len);
        // accepted, delivered and retrying (deduplicated by generation/status/attempt).
        if steps == 3 {
            assert_eq!(view["status"], "delivered");
            assert_eq!(view["attempts"], 2);
            assert_eq!(view["brand"], "testBrand");
            // The failure is the furthest one, whatever order it arrived in;
            // the HTTP status is the furthest record's that carried one.
            assert_eq!(view["last_error_kind"], "server_error");
            assert_eq!(view["last_http_status"], 200);
            let history = view["history"].as_array().unwrap();
            let retry = history
                .iter()
                .find(|step| step["status"] == "retrying")
                .unwrap();
            assert_eq!(
                (retry["status"].as_str(), retry["error_kind"].as_str()),
                (Some("retrying"), Some("server_error"))
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "history never reached 3 steps: {view}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
