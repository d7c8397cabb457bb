//! The dispatcher replicas' own view of themselves (`GET /status`): breaker,
//! pause, rate share, in flight. Asked for when the delivery page is drawn;
//! an entry `dns+http://name:port` stands for every address the name has
//! (a Kubernetes headless service lists each pod).

use std::time::Duration;

use serde::Deserialize;

/// How long one replica may take to answer.
const ASK_WITHIN: Duration = Duration::from_secs(2);
/// The largest `/status` answer read; a real one is a few hundred bytes.
const MAX_ANSWER: usize = 64 * 1024;
/// The most replicas one `dns+` entry expands to.
const MAX_ADDRESSES: usize = 64;

/// One replica's answer, as far as the console reads it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ReplicaStatus {
    pub(crate) breaker: Breaker,
    pub(crate) paused: bool,
    pub(crate) pause: Option<PauseView>,
    pub(crate) rate: RateView,
    pub(crate) in_flight: u64,
}

/// The breaker's state.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Breaker {
    pub(crate) state: String,
}

/// Why delivery is paused.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PauseView {
    pub(crate) reason: String,
    pub(crate) by: String,
}

/// The replica's rate: the group's and its share.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RateView {
    pub(crate) configured_per_second: u32,
    pub(crate) group_per_second: u32,
    pub(crate) share_per_second: f64,
    pub(crate) current_per_second: f64,
    pub(crate) partitions_assigned: Vec<i32>,
}

/// A replica's address and what it said, or why it said nothing.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) url: String,
    pub(crate) status: Result<ReplicaStatus, String>,
}

/// Asks the dispatchers for their status.
#[derive(Debug, Clone)]
pub(crate) struct Replicas {
    urls: Vec<String>,
    http: reqwest::Client,
}

impl Replicas {
    pub(crate) fn new(urls: Vec<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(ASK_WITHIN)
            .build()
            .unwrap_or_default();
        Self { urls, http }
    }

    /// Whether any replica is configured.
    pub(crate) fn configured(&self) -> bool {
        !self.urls.is_empty()
    }

    /// Every replica's answer, asked at once.
    pub(crate) async fn ask(&self) -> Vec<Answer> {
        let mut urls = Vec::new();
        for url in &self.urls {
            urls.extend(expand(url).await);
        }
        let asks = urls.into_iter().map(|url| async move {
            let status = self.status(&url).await;
            Answer { url, status }
        });
        futures::future::join_all(asks).await
    }

    async fn status(&self, base: &str) -> Result<ReplicaStatus, String> {
        let mut response = self
            .http
            .get(format!("{}/status", base.trim_end_matches('/')))
            .send()
            .await
            .map_err(|error| format!("no answer: {error}"))?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| format!("answer broke off: {error}"))?
        {
            if body.len() + chunk.len() > MAX_ANSWER {
                return Err(format!("answer longer than {MAX_ANSWER} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|error| format!("unreadable answer: {error}"))
    }
}

/// The base URLs an entry stands for.
async fn expand(entry: &str) -> Vec<String> {
    let Some(rest) = entry.strip_prefix("dns+") else {
        return vec![entry.to_owned()];
    };
    let Some((scheme, authority)) = rest.split_once("://") else {
        return vec![rest.to_owned()];
    };
    let authority = authority.trim_end_matches('/');
    match tokio::net::lookup_host(authority).await {
        Ok(addresses) => addresses
            .take(MAX_ADDRESSES)
            .map(|address| format!("{scheme}://{address}"))
            .collect(),
        Err(error) => {
            tracing::warn!(entry, error = %orch_telemetry::error_chain(&error), "Could not resolve the dispatchers' name.");
            vec![rest.to_owned()]
        }
    }
}
