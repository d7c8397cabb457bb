use orch_contracts::{HEADER_SCHEMA, HEADER_TRACEPARENT, RawEventRecord};
use rdkafka::Message;
use serde_json::{Value, json};

use crate::support::{Options, event, spawn_pipeline};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_event_is_delivered_enriched_and_visible_to_support() {
    let pipeline = spawn_pipeline(Options::default()).await;
    let mut body = event("e1");
    body["colour"] = json!("blue");

    let response = pipeline
        .http
        .post(format!("{}/events", pipeline.command_url))
        .bearer_auth(crate::support::SOURCE_KEY)
        .header("traceparent", TRACEPARENT)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["id"], "e1");
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(accepted["status_url"], "http://query.test/events/e1");

    // The raw record is in Kafka, keyed by id, with trace and schema headers,
    // the time normalised and the unknown field kept.
    let raw = pipeline.read_topic(&pipeline.kafka.topics().raw, 1).await;
    assert_eq!(raw[0].key(), Some(&b"e1"[..]));
    let headers = raw[0].headers().expect("raw record has headers");
    let traceparent = orch_kafka::header_str(headers, HEADER_TRACEPARENT).unwrap();
    assert!(traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    assert_eq!(orch_kafka::header_str(headers, HEADER_SCHEMA), Some("1"));
    let record: RawEventRecord = serde_json::from_slice(raw[0].payload().unwrap()).unwrap();
    assert_eq!(record.unix_timestamp(), 1_795_255_200);
    assert_eq!(record.extra["colour"], "blue");

    // Support sees it delivered, with its brand, trace and history.
    let view = pipeline.await_status("e1", "delivered").await;
    assert_eq!(view["brand"], "testBrand");
    assert_eq!(view["name"], "test event");
    assert_eq!(view["attempts"], 1);
    assert_eq!(view["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(view["accepted_at"].is_string() && view["delivered_at"].is_string());
    let steps: Vec<&str> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["accepted", "delivered"]);

    // The target holds the enriched item, without the unknown field.
    let item = pipeline
        .target_graphql(
            "query($id: ID!) { getItem(id: $id) { id name body timestamp brand } }",
            json!({ "id": "e1" }),
        )
        .await;
    assert_eq!(
        item["data"]["getItem"],
        json!({"id":"e1","name":"test event","body":"test body","timestamp":1_795_255_200,"brand":"testBrand"})
    );
    let stats = pipeline.target_stats().await;
    assert_eq!((stats.accepted, stats.duplicates), (1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_ids_are_a_problem_json_404() {
    let pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        ..Options::default()
    })
    .await;
    let response = pipeline
        .http
        .get(format!("{}/events/nope", pipeline.query_url))
        .bearer_auth(crate::support::READER_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/not-found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_api_serves_its_checked_in_openapi_document_without_a_key() {
    let pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        ..Options::default()
    })
    .await;
    for (url, checked_in) in [
        (&pipeline.command_url, "docs/openapi/command.json"),
        (&pipeline.query_url, "docs/openapi/query.json"),
    ] {
        let served: Value = pipeline
            .http
            .get(format!("{url}/openapi.json"))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        let file = std::fs::read_to_string(orch_testkit::repo_root().join(checked_in)).unwrap();
        let checked_in: Value = serde_json::from_str(&file).unwrap();
        assert_eq!(served, checked_in);
    }
}
