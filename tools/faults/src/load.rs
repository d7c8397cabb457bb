//! The source: sends the oracle's events at a steady rate, as the real source
//! app does (no retries), and records each answer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::{Instant, sleep_until};

use crate::oracle::{Answer, Issued, Oracle};

/// Requests open at once at most; more wait (the source app's pool).
const CONNECTIONS: usize = 64;

/// Sends every event of `oracle` over `spread`, then waits for the last answer.
pub(crate) async fn send_all(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    oracle: &Oracle,
    spread: Duration,
) -> Vec<Answer> {
    let slots = Arc::new(Semaphore::new(CONNECTIONS));
    let period = spread / u32::try_from(oracle.events.len().max(1)).unwrap_or(u32::MAX);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(oracle.events.len());
    for (n, event) in oracle.events.iter().enumerate() {
        sleep_until(start + period * u32::try_from(n).unwrap_or(u32::MAX)).await;
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (http, url, key, event) = (
            http.clone(),
            url.to_owned(),
            key.to_owned(),
            event.body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _slot = slot;
            send(&http, &url, &key, &event).await
        }));
    }
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        // A task that panicked never learned its answer.
        answers.push(task.await.unwrap_or(Answer::Unknown));
    }
    answers
}

/// Sends one event; a fresh one after the run uses this too.
pub(crate) async fn send_one(
    http: &reqwest::Client,
    url: &str,
    key: &str,
    event: &Issued,
) -> Answer {
    send(http, url, key, &event.body).await
}

async fn send(http: &reqwest::Client, url: &str, key: &str, body: &serde_json::Value) -> Answer {
    let response = http
        .post(url)
        .bearer_auth(key)
        .json(body)
        .timeout(Duration::from_secs(3))
        .send()
        .await;
    match response {
        Ok(response) if response.status().as_u16() == 202 => Answer::Accepted,
        Ok(response) => Answer::Refused(response.status().as_u16()),
        Err(error) if error.is_connect() => Answer::Unreachable,
        Err(_) => Answer::Unknown,
    }
}
