use std::time::Duration;

use crate::support::{Namespace, QueryProcess, seed, the_day};

const EVENTS: i64 = 200_000;
/// Small pages and a short lease, so a run takes long enough to be killed
/// in the middle and a takeover comes soon.
const WORKER: [(&str, &str); 2] = [
    ("QUERY_EXPORT_PAGE_ROWS", "500"),
    ("QUERY_EXPORT_LEASE_SECS", "5"),
];

/// A worker SIGKILLed mid-export leaves its job to another, which finishes
/// it; a job whose second worker is killed too ends `failed`, with why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_is_taken_over_once_and_a_second_death_fails_the_job() {
    let ns = Namespace::new().await;
    let mut first = QueryProcess::start(&ns, &WORKER).await;
    seed(&ns.pool().await, EVENTS).await;

    let (_, location, _) = first.post_export(&the_day("csv")).await;
    let location = location.unwrap();
    let mid = |job: &serde_json::Value| {
        job["state"] == "started" && job["rows"].as_i64().unwrap_or(0) > 0
    };
    let job = first
        .await_job(&location, Duration::from_secs(120), mid)
        .await;
    first.kill();
    assert!(
        job["rows"].as_i64().unwrap() < EVENTS,
        "killed mid-export: {job}"
    );
    eprintln!("first worker SIGKILLed at {} rows", job["rows"]);

    let mut second = QueryProcess::start(&ns, &WORKER).await;
    let job = second
        .await_job(&location, Duration::from_secs(300), |job| {
            job["state"] == "finished" || job["state"] == "failed"
        })
        .await;
    assert_eq!(job["state"], "finished", "{job}");
    assert_eq!(
        (job["attempts"].as_i64(), job["rows"].as_i64()),
        (Some(2), Some(EVENTS))
    );
    let csv = reqwest::get(job["export_uri"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        csv.lines().count() as i64,
        EVENTS + 1,
        "a header and every row"
    );
    assert!(csv.starts_with("id,name,body,timestamp,brand,status,"));

    // Second job: both its workers die.
    let (_, location, _) = second.post_export(&the_day("ndjson")).await;
    let location = location.unwrap();
    second
        .await_job(&location, Duration::from_secs(120), mid)
        .await;
    second.kill();
    let mut third = QueryProcess::start(&ns, &WORKER).await;
    third
        .await_job(&location, Duration::from_secs(120), |job| {
            job["attempts"] == 2 && mid(job)
        })
        .await;
    third.kill();
    eprintln!("both workers of the second job SIGKILLed mid-export");
    let fourth = QueryProcess::start(&ns, &WORKER).await;
    let job = fourth
        .await_job(&location, Duration::from_secs(120), |job| {
            job["state"] == "failed" || job["state"] == "finished"
        })
        .await;
    assert_eq!(job["state"], "failed", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("stopped answering") && error.contains("2 attempts"),
        "{error}"
    );
    assert!(job["export_uri"].is_null());
}
