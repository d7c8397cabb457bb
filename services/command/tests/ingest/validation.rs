use serde_json::{Value, json};

use crate::support::{READER_KEY, SOURCE_KEY, event, spawn_app};

async fn problem(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap()),
        Some("application/problem+json"),
        "HTTP {status} is problem+json"
    );
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_keys_get_401_and_nothing_is_produced() {
    let app = spawn_app().await;
    let url = format!("{}/events", app.url);
    let requests = [
        app.http.post(&url),
        app.http.post(&url).bearer_auth("wrong-key"),
        app.http.post(&url).bearer_auth(READER_KEY),
        app.http.post(&url).header("x-api-key", READER_KEY),
        app.http.post(&url).basic_auth(SOURCE_KEY, Some("x")),
    ];
    for request in requests {
        let response = request.json(&event("e1")).send().await.unwrap();
        let (status, body) = problem(response).await;
        assert_eq!(status, 401);
        assert_eq!(body["type"], "/problems/unauthorized");
    }
    // The X-Api-Key form of the right key works.
    let ok = app
        .http
        .post(&url)
        .header("x-api-key", SOURCE_KEY)
        .json(&event("e2"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 202);
    assert_eq!(
        app.await_raw_topic_size(1).await,
        1,
        "only the event with the right key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_class_gets_its_status_and_names_the_field() {
    let app = spawn_app().await;
    let url = format!("{}/api/v1/events", app.url);
    let send = |content_type: &'static str, body: Vec<u8>| {
        app.http
            .post(&url)
            .bearer_auth(SOURCE_KEY)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let (status, _) = problem(send("text/plain", b"{}".to_vec()).await.unwrap()).await;
    assert_eq!(status, 415);

    let (status, body) = problem(
        send("application/json", b"{\"id\":".to_vec())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("not valid JSON"));

    let (status, _) = problem(send("application/json", b"[1,2]".to_vec()).await.unwrap()).await;
    assert_eq!(status, 400);

    let huge =
        serde_json::to_vec(&json!({"id":"big","name":"n","body":"x".repeat(70_000),"timestamp":0}))
            .unwrap();
    let (status, _) = problem(send("application/json", huge).await.unwrap()).await;
    assert_eq!(status, 413);

    let invalid = json!({"id": "", "name": 7, "timestamp": "2040-01-01T00:00:00Z"});
    let (status, body) = problem(
        send("application/json", invalid.to_string().into_bytes())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["id", "name", "body", "timestamp"]);

    // Prove a negative: send one valid event after the invalid ones; once it is
    // in Kafka, it must be alone.
    assert_eq!(app.post_event(&event("valid")).await.status(), 202);
    assert_eq!(
        app.await_raw_topic_size(1).await,
        1,
        "nothing invalid was produced"
    );

    // Every accepted timestamp form is normalised.
    for (id, timestamp) in [("s", json!(1_795_255_200)), ("ms", json!("1795255200000"))] {
        let mut body = event(id);
        body["timestamp"] = timestamp;
        assert_eq!(app.post_event(&body).await.status(), 202);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_event_is_in_events_raw_keyed_by_id_with_trace_and_schema_headers() {
    use orch_contracts::{HEADER_SCHEMA, HEADER_TRACEPARENT, HEADER_TRACESTATE, RawEventRecord};
    use rdkafka::Message;

    let app = spawn_app().await;
    let mut body = event("with-headers");
    body["colour"] = json!("blue");
    let response = app
        .http
        .post(format!("{}/events", app.url))
        .bearer_auth(SOURCE_KEY)
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("tracestate", "vendor=1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");

    let records = orch_testkit::read_topic(
        &orch_testkit::bootstrap(),
        &app.kafka.topics().raw,
        orch_testkit::PATIENCE,
        |read| !read.is_empty(),
    )
    .await;
    let record = &records[0];
    assert_eq!(record.key(), Some(&b"with-headers"[..]));
    let headers = record.headers().unwrap();
    let traceparent = orch_kafka::header_str(headers, HEADER_TRACEPARENT).unwrap();
    assert!(traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    assert_ne!(
        traceparent, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "a child span"
    );
    assert_eq!(
        orch_kafka::header_str(headers, HEADER_TRACESTATE),
        Some("vendor=1")
    );
    assert_eq!(orch_kafka::header_str(headers, HEADER_SCHEMA), Some("1"));
    let raw: RawEventRecord = serde_json::from_slice(record.payload().unwrap()).unwrap();
    assert_eq!(
        (raw.schema, raw.id.as_str(), raw.generation),
        (1, "with-headers", 0)
    );
    assert_eq!(raw.extra["colour"], "blue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_kafka_unreachable_and_the_spool_full_events_get_503_not_202() {
    use std::net::SocketAddr;

    let spool = tempfile::tempdir().unwrap();
    // Nothing listens on this port: Kafka is unreachable from the start.
    let dead_broker = format!("127.0.0.1:{}", orch_testkit::free_port());
    let mut config = crate::support::config(
        &dead_broker,
        &orch_testkit::unique_prefix(),
        spool.path(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    );
    // Room for one spooled event (about 320 bytes) but not two.
    config.spool_max_bytes = 500;
    // This test is about what the spool can hold, not about time: a broker
    // starting for a neighbouring test can stall the spool's fsync past the
    // usual 450 ms deadline on a busy 2-core runner (the outage test asserts
    // the 500 ms promise). The deadline still ends a wait that never would.
    config.request_deadline_ms = 5_000;
    let app = orch_command::Application::build(config).await.unwrap();
    let url = format!("http://{}/events", app.local_addr());
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(app.run(shutdown.clone()));
    let http = reqwest::Client::new();
    let post = |id: &'static str| {
        http.post(&url)
            .bearer_auth(SOURCE_KEY)
            .json(&event(id))
            .send()
    };

    let first = post("spooled").await.unwrap();
    assert_eq!(first.status(), 202, "the spool takes the first event");
    let second = post("refused").await.unwrap();
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers()["content-type"], "application/problem+json");
    let problem: Value = second.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("not accepted"));

    // Neither Kafka nor the spool can take events: not ready.
    let ready = http
        .get(url.replace("/events", "/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    shutdown.cancel();
}
