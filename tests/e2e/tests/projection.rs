use std::time::Duration;

use orch_contracts::{ErrorKind, EventId, Status, StatusRecord};
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
    let late = EventId::parse("late").unwrap();
    let retrying = StatusRecord {
        error_kind: Some(ErrorKind::ServerError),
        error_message: Some("HTTP 503".into()),
        http_status: Some(503),
        ..StatusRecord::new(&late, Status::Retrying, 1, "t", 0)
    };
    let delivered = StatusRecord {
        http_status: Some(200),
        brand: Some("testBrand".into()),
        ..StatusRecord::new(&late, Status::Delivered, 2, "t", 0)
    };
    // Delivered first, then the older retrying record arrives late, then a replay.
    send(delivered.clone()).await;
    pipeline.await_status("late", "delivered").await;
    send(retrying.clone()).await;
    send(delivered).await;
    send(retrying).await;
    // A marker behind them on the same partition (same key) shows they were all projected.
    let marker = StatusRecord::new(&late, Status::Retrying, 1, "t", 0);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_postgres_refuses_is_quarantined_and_the_rest_of_its_batch_projected() {
    let pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        ..Options::default()
    })
    .await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("linger.ms", "50")
        .create()
        .unwrap();
    let topic = pipeline.kafka.topics().status;
    // A trace id no index can hold (a btree entry is at most ~2.7 KB, and
    // hex compresses only so far): Postgres refuses its row every time.
    let huge: String = (0..1_000)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect();
    let status = |id: &str, trace_id: &str| {
        let id = EventId::parse(id).unwrap();
        orch_contracts::to_json(&StatusRecord::new(&id, Status::Retrying, 1, trace_id, 0))
    };
    // An id over the contract's 256 bytes does not parse: unreadable.
    let huge_id = String::from_utf8(status("q-id", "t"))
        .unwrap()
        .replace("\"q-id\"", &format!("\"{}\"", &huge[..300]))
        .into_bytes();
    let records: Vec<Vec<u8>> = vec![
        status("q-before", "t"),
        status("q-refused", &huge),
        b"{\"not\": \"a status record\"".to_vec(),
        huge_id,
        status("q-after", "t"),
    ];
    // One key, so one partition and (enqueued together) one batch.
    let deliveries: Vec<_> = records
        .iter()
        .map(|payload| {
            producer
                .send_result(FutureRecord::to(&topic).key("same").payload(payload))
                .map_err(|(error, _)| error)
                .expect("record enqueued")
        })
        .collect();
    for delivery in deliveries {
        delivery
            .await
            .expect("delivery reported")
            .map_err(|(error, _)| error)
            .expect("record produced");
    }

    pipeline.await_status("q-before", "retrying").await;
    pipeline.await_status("q-after", "retrying").await;
    let deadline = tokio::time::Instant::now() + crate::support::PATIENCE;
    let stats = loop {
        let (status, stats) = pipeline.query_get("/stats").await;
        assert_eq!(status, 200, "{stats}");
        if stats["quarantined"] == 3 {
            break stats;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "three records never quarantined: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(stats["by_status"]["retrying"], 2, "{stats}");

    let pool = sqlx::PgPool::connect(&pipeline.database_url).await.unwrap();
    let rows: Vec<(String, Option<String>, String, Vec<u8>)> = sqlx::query_as(
        "SELECT reason, event_id, error, record FROM projection_quarantine ORDER BY record_offset",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let [refused, unreadable, bad_id] = rows.as_slice() else {
        panic!("three quarantined rows: {rows:?}")
    };
    assert_eq!(refused.0, "refused");
    assert_eq!(refused.1.as_deref(), Some("q-refused"));
    assert!(refused.2.contains("index row"), "{}", refused.2);
    assert_eq!(refused.3, records[1], "the record is kept whole");
    assert_eq!(unreadable.0, "unreadable");
    assert_eq!(unreadable.3, records[2]);
    assert_eq!(bad_id.0, "unreadable");
    assert!(bad_id.2.contains("at most 256 bytes"), "{}", bad_id.2);
    assert_eq!(bad_id.3, records[3]);
}
