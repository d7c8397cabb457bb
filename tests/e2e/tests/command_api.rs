use serde_json::{Value, json};

use crate::support::{Options, READER_KEY, SOURCE_KEY, event, spawn_pipeline};

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
    let pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        without_query: true,
        ..Options::default()
    })
    .await;
    let url = format!("{}/events", pipeline.command_url);
    let requests = [
        pipeline.http.post(&url),
        pipeline.http.post(&url).bearer_auth("wrong-key"),
        pipeline.http.post(&url).bearer_auth(READER_KEY),
        pipeline.http.post(&url).header("x-api-key", READER_KEY),
        pipeline.http.post(&url).basic_auth(SOURCE_KEY, Some("x")),
    ];
    for request in requests {
        let response = request.json(&event("e1")).send().await.unwrap();
        let (status, body) = problem(response).await;
        assert_eq!(status, 401);
        assert_eq!(body["type"], "/problems/unauthorized");
    }
    // The X-Api-Key form of the right key works.
    let ok = pipeline
        .http
        .post(&url)
        .header("x-api-key", SOURCE_KEY)
        .json(&event("e2"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 202);
    assert_eq!(pipeline.topic_size(&pipeline.kafka.topics().raw).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_class_gets_its_status_and_names_the_field() {
    let pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        without_query: true,
        ..Options::default()
    })
    .await;
    let url = format!("{}/api/v1/events", pipeline.command_url);
    let send = |content_type: &'static str, body: Vec<u8>| {
        pipeline
            .http
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

    assert_eq!(
        pipeline.topic_size(&pipeline.kafka.topics().raw).await,
        0,
        "nothing invalid was produced"
    );

    // Every accepted timestamp form is normalised.
    for (id, timestamp) in [("s", json!(1_795_255_200)), ("ms", json!("1795255200000"))] {
        let mut body = event(id);
        body["timestamp"] = timestamp;
        assert_eq!(pipeline.post_event(&body).await.status(), 202);
    }
}
