//! The sandbox target over HTTP: its schema, rate limit, faults and counters.

use orch_sandbox_target::{Application, Faults, RateLimitMode, SandboxConfig, Stats};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const CREATE: &str = "mutation($id: ID!) { createItem(id: $id, name: \"n\", body: \"b\", timestamp: 1, brand: \"testBrand\") { id } }";

struct Target {
    url: String,
    http: reqwest::Client,
    shutdown: CancellationToken,
}

impl Drop for Target {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn spawn(rate: u32, mode: RateLimitMode, faults: Faults) -> Target {
    let app = Application::build(SandboxConfig {
        rate_limit_mode: mode,
        faults,
        ..SandboxConfig::local(rate)
    })
    .await
    .unwrap();
    let url = format!("http://{}", app.local_addr());
    let shutdown = CancellationToken::new();
    tokio::spawn(app.run(shutdown.clone()));
    Target {
        url,
        http: reqwest::Client::new(),
        shutdown,
    }
}

impl Target {
    /// A `createItem` call, its answer as it came.
    async fn send_create(&self, id: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": CREATE, "variables": { "id": id } }))
            .send()
            .await
            .unwrap()
    }

    async fn create(&self, id: &str) -> (u16, Option<String>, Value) {
        let response = self.send_create(id).await;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, retry_after, response.json().await.unwrap())
    }

    /// Posts `body` to an admin endpoint; its status and JSON answer.
    async fn admin(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/admin/{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn stats(&self) -> Stats {
        self.http
            .get(format!("{}/stats", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn over_the_limit_it_answers_429_with_retry_after_and_counts_it() {
    let target = spawn(5, RateLimitMode::Http, Faults::default()).await;
    let mut codes = Vec::new();
    for i in 0..8 {
        let (status, retry_after, _) = target.create(&format!("e{i}")).await;
        if status == 429 {
            assert_eq!(retry_after.as_deref(), Some("1"));
        }
        codes.push(status);
    }
    assert_eq!(
        codes.iter().filter(|c| **c == 200).count(),
        5,
        "a burst of one second's worth: {codes:?}"
    );
    let stats = target.stats().await;
    assert_eq!(
        (stats.accepted, stats.rate_limited, stats.max_in_window),
        (5, 3, 5)
    );
}

#[tokio::test]
async fn in_graphql_mode_the_limit_is_a_200_with_a_rate_limited_error() {
    let target = spawn(1, RateLimitMode::Graphql, Faults::default()).await;
    target.create("a").await;
    let (status, _, body) = target.create("b").await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
}

#[tokio::test]
async fn faults_set_over_the_admin_endpoint_apply_and_are_counted_apart() {
    let target = spawn(0, RateLimitMode::Http, Faults::default()).await;
    let faults = json!({ "reject_id_prefix": "poison-", "error_rate": 1.0 });
    let response = target
        .http
        .put(format!("{}/admin/faults", target.url))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, _, body) = target.create("poison-1").await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].as_str()),
        (400, Some("BAD_USER_INPUT"))
    );
    let (status, _, _) = target.create("ok-1").await;
    assert_eq!(status, 503);
    let bad = json!({ "error_rate": 2.0 });
    let refused = target
        .http
        .put(format!("{}/admin/faults", target.url))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);

    target
        .http
        .put(format!("{}/admin/faults", target.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(target.create("ok-1").await.0, 200);
    assert_eq!(target.create("ok-1").await.0, 200);
    let stats = target.stats().await;
    assert_eq!(
        (
            stats.rejected,
            stats.injected_server_errors,
            stats.accepted,
            stats.duplicates,
            stats.rate_limited
        ),
        (1, 1, 1, 1, 0)
    );
}

fn hostile(answer: Value, count: u64) -> Value {
    json!({ "answer": answer, "count": count })
}

#[tokio::test]
async fn a_retry_after_answer_sends_the_value_verbatim_with_429_for_count_calls() {
    let target = spawn(0, RateLimitMode::Http, Faults::default()).await;
    let value = "18446744073709551615";
    let (status, faults) = target
        .admin(
            "hostile",
            hostile(json!({ "kind": "retry_after", "value": value }), 2),
        )
        .await;
    assert_eq!((status, &faults["hostile"]["count"]), (200, &json!(2)));
    for id in ["a", "b"] {
        let (status, retry_after, body) = target.create(id).await;
        assert_eq!((status, retry_after.as_deref()), (429, Some(value)));
        assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    }
    assert_eq!(target.create("c").await.0, 200);
    let shown: Value = target
        .http
        .get(format!("{}/admin/faults", target.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["hostile"]["count"], 0, "spent: {shown}");
    let stats = target.stats().await;
    assert_eq!(
        (stats.injected_hostile, stats.accepted, stats.unique_ids),
        (2, 1, 1),
        "hostile answers store nothing"
    );
}

#[tokio::test]
async fn a_graphql_retry_after_answer_writes_the_number_text_verbatim() {
    let target = spawn(0, RateLimitMode::Http, Faults::default()).await;
    let answer = json!({ "kind": "graphql_retry_after", "value": "1e20" });
    assert_eq!(target.admin("hostile", hostile(answer, 1)).await.0, 200);
    let response = target.send_create("a").await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains(r#""retryAfter":1e20"#), "{body}");
    let parsed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed["errors"][0]["extensions"]["code"], "RATE_LIMITED");
}

#[tokio::test]
async fn a_reset_mid_body_answer_leaves_the_client_with_an_incomplete_body() {
    let target = spawn(0, RateLimitMode::Http, Faults::default()).await;
    let answer = json!({ "kind": "reset_mid_body" });
    assert_eq!(target.admin("hostile", hostile(answer, 1)).await.0, 200);
    let response = target.send_create("a").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), Some(1000));
    assert!(response.bytes().await.is_err());
    assert_eq!(target.create("a").await.0, 200, "the next call is served");
}

#[tokio::test]
async fn not_json_and_no_data_no_errors_answer_200_with_what_no_client_expects() {
    let target = spawn(0, RateLimitMode::Http, Faults::default()).await;
    assert_eq!(
        target
            .admin("hostile", hostile(json!({ "kind": "not_json" }), 1))
            .await
            .0,
        200
    );
    let response = target.send_create("a").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let body = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");

    let answer = json!({ "kind": "no_data_no_errors" });
    assert_eq!(target.admin("hostile", hostile(answer, 1)).await.0, 200);
    let (status, _, body) = target.create("a").await;
    assert_eq!((status, body), (200, json!({ "hello": "world" })));
}

#[tokio::test]
async fn slow_drip_outlasts_a_deadline_and_oversized_sends_every_byte() {
    let target = spawn(0, RateLimitMode::Http, Faults::default()).await;
    let drip = json!({ "kind": "slow_drip", "bytes": 1000, "every_ms": 50 });
    assert_eq!(target.admin("hostile", hostile(drip, 1)).await.0, 200);
    let response = target.send_create("a").await;
    assert_eq!(response.status(), 200, "the status comes at once");
    let read = tokio::time::timeout(std::time::Duration::from_millis(300), response.bytes()).await;
    assert!(read.is_err(), "the body is still dripping");

    let big = json!({ "kind": "oversized", "bytes": 300_000 });
    assert_eq!(target.admin("hostile", hostile(big, 1)).await.0, 200);
    let response = target.send_create("a").await;
    assert_eq!(response.content_length(), None, "streamed without a length");
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), 300_000);
    assert!(serde_json::from_slice::<Value>(&body).is_ok());
}

#[tokio::test]
async fn a_down_window_with_a_status_answers_it_to_create_item_only() {
    let target = spawn(0, RateLimitMode::Http, Faults::default()).await;
    let (status, faults) = target
        .admin("down", json!({ "for_ms": 60_000, "status": 401 }))
        .await;
    assert_eq!((status, &faults["down_status"]), (200, &json!(401)));
    let (status, _, body) = target.create("a").await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let query = target
        .http
        .post(format!("{}/graphql", target.url))
        .json(&json!({ "query": "{ getItems { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200, "queries pass a down window");

    for bad in [200, 399, 600] {
        let (status, _) = target
            .admin("down", json!({ "for_ms": 60_000, "status": bad }))
            .await;
        assert_eq!(status, 422, "status {bad}");
    }
    assert_eq!(
        target.create("a").await.0,
        401,
        "a refused change changes nothing"
    );

    let (_, faults) = target.admin("down", json!({ "for_ms": 60_000 })).await;
    assert_eq!(faults["down_status"], Value::Null);
    assert_eq!(target.create("a").await.0, 503);
    target.admin("down", json!({ "for_ms": 0 })).await;
    assert_eq!(target.create("a").await.0, 200);

    let stats = target.stats().await;
    assert_eq!(
        (
            stats.injected_status,
            stats.injected_server_errors,
            stats.accepted
        ),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn hostile_limits_are_refused_with_422() {
    let target = spawn(0, RateLimitMode::Http, Faults::default()).await;
    for bad in [
        hostile(json!({ "kind": "not_json" }), 1_000_001),
        hostile(json!({ "kind": "slow_drip", "every_ms": 0 }), 1),
        hostile(
            json!({ "kind": "oversized", "bytes": 1_073_741_825_u64 }),
            1,
        ),
    ] {
        assert_eq!(target.admin("hostile", bad.clone()).await.0, 422, "{bad}");
    }
    let refused = target
        .http
        .put(format!("{}/admin/faults", target.url))
        .json(&json!({ "down_status": 302 }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(target.create("a").await.0, 200);
}
