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
    async fn create(&self, id: &str) -> (u16, Option<String>, Value) {
        let response = self
            .http
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": CREATE, "variables": { "id": id } }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        (status, retry_after, response.json().await.unwrap())
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
