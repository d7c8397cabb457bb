//! Ops: pause delivery and see the target's counter stop; resume and see it
//! take every event that waited.

use std::time::Duration;

use super::browser::Browser;
use super::tag;
use crate::support::{OPS_KEY, Options, event, spawn_pipeline};

/// How long the counter must stay still to count as stopped.
const QUIET: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_pause_and_resume_delivery_and_the_target_counter_stops_and_restarts() {
    let tag = tag();
    let pipeline = spawn_pipeline(Options::default()).await;
    let before = format!("before-{tag}");
    assert_eq!(pipeline.post_event(&event(&before)).await.status(), 202);
    pipeline.await_status(&before, "delivered").await;

    let browser = Browser::open(&pipeline.query_url, "delivery_controls", 1280).await;
    browser.sign_in(OPS_KEY).await;
    browser.go("/console/delivery").await;
    browser.shot("1-delivery-running").await;
    assert!(browser.main_text().await.contains("Running"));
    browser
        .fill("#reason", "target maintenance until 14:00 UTC")
        .await;
    browser.follow("#pause").await;
    let paused = browser
        .await_text("delivery paused", |text| {
            text.contains("Paused by ops-test")
        })
        .await;
    browser.shot("2-delivery-paused").await;
    assert!(
        paused.contains("target maintenance until 14:00 UTC"),
        "{paused}"
    );

    let stopped_at = pipeline.target_stats().await.requests;
    let waiting: Vec<String> = (0..5).map(|n| format!("waiting-{tag}-{n}")).collect();
    for id in &waiting {
        assert_eq!(pipeline.post_event(&event(id)).await.status(), 202);
    }
    for id in &waiting {
        pipeline.await_status(id, "accepted").await;
    }
    let quiet_since = tokio::time::Instant::now();
    while quiet_since.elapsed() < QUIET {
        assert_eq!(
            pipeline.target_stats().await.requests,
            stopped_at,
            "a request reached the target while paused"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    browser.fill("#reason", "maintenance over").await;
    browser.follow("#resume").await;
    browser
        .await_text("delivery running", |text| text.contains("Running"))
        .await;
    for id in &waiting {
        pipeline.await_status(id, "delivered").await;
    }
    let resumed = pipeline.target_stats().await;
    eprintln!(
        "console: target requests {stopped_at} while paused, {} after resuming",
        resumed.requests
    );
    assert!(resumed.requests >= stopped_at + waiting.len() as u64);
    browser.shot("3-delivery-resumed").await;

    browser.go("/console/audit").await;
    let audit = browser.main_text().await;
    assert!(
        audit.contains("pause") && audit.contains("resume"),
        "{audit}"
    );
    browser.close().await;
}
