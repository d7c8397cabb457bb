//! Latency mode: follows a sample of accepted events through the query
//! service until each shows as delivered, timing accepted → visible.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::task::JoinSet;

/// How often a followed event is looked up.
const POLL: Duration = Duration::from_millis(5);

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The sampled events being followed and what they measured.
#[derive(Clone)]
pub(crate) struct Follow {
    url: hyper::Uri,
    auth: String,
    /// One event in this many is followed.
    pub(crate) every: u64,
    latency_us: Arc<Mutex<Histogram<u64>>>,
    tasks: Arc<Mutex<JoinSet<()>>>,
}

impl Follow {
    pub(crate) fn new(url: hyper::Uri, auth: String, every: u64) -> Self {
        Self {
            url,
            auth,
            every,
            latency_us: Arc::new(Mutex::new(
                Histogram::new_with_bounds(1, 600_000_000, 3).expect("histogram bounds"),
            )),
            tasks: Arc::new(Mutex::new(JoinSet::new())),
        }
    }

    /// Follows `id`, sent at `sent`, until it is delivered.
    pub(crate) fn track(&self, client: &HttpClient, id: String, sent: Instant) {
        let (client, url, auth, latency) = (
            client.clone(),
            format!("{}/{id}", self.url),
            self.auth.clone(),
            self.latency_us.clone(),
        );
        self.tasks.lock().expect("tasks lock").spawn(async move {
            loop {
                let request = hyper::Request::get(url.as_str())
                    .header("authorization", auth.as_str())
                    .body(Full::new(Bytes::new()))
                    .expect("valid request");
                if let Ok(response) = client.request(request).await
                    && let Ok(body) = response.into_body().collect().await
                    && serde_json::from_slice::<Value>(&body.to_bytes())
                        .is_ok_and(|v| v["status"] == "delivered")
                {
                    let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
                    latency
                        .lock()
                        .expect("histogram lock")
                        .saturating_record(micros.max(1));
                    return;
                }
                tokio::time::sleep(POLL).await;
            }
        });
    }

    /// Waits up to `patience` for the followed events, then reports.
    pub(crate) async fn finish(self, patience: Duration) -> Value {
        let mut tasks = std::mem::take(&mut *self.tasks.lock().expect("tasks lock"));
        let followed = tasks.len();
        let _ = tokio::time::timeout(patience, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        let unfinished = tasks.len();
        tasks.abort_all();
        let latency = self.latency_us.lock().expect("histogram lock");
        let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
        json!({
            "followed": followed,
            "never_delivered": unfinished,
            "p50": ms(0.50),
            "p99": ms(0.99),
            "max": latency.max() as f64 / 1000.0,
        })
    }
}

impl std::fmt::Debug for Follow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follow")
            .field("url", &self.url)
            .field("every", &self.every)
            .finish()
    }
}
