use std::time::Duration;

use futures::StreamExt;

use crate::support::{Namespace, QueryProcess, day, seed, the_day};

const EVENTS: i64 = 1_000_000;
/// The worker's process may not pass this resident size.
const RSS_CEILING_KIB: u64 = 100 * 1024;

/// A day of a million events exports to one file whose rows are the read
/// model's, in order; progress shows while it runs; the process that ran it
/// never held more than 100 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_event_day_exports_row_for_row_in_bounded_memory() {
    let ns = Namespace::new().await;
    let service = QueryProcess::start(&ns, &[]).await;
    let pool = ns.pool().await;
    seed(&pool, EVENTS).await;

    let (status, location, job) = service.post_export(&the_day("ndjson")).await;
    assert_eq!(status, 202, "{job}");
    let location = location.expect("Location header");
    assert_eq!(
        location,
        format!("/exports/{}", job["id"].as_str().unwrap())
    );
    assert_eq!(job["state"], "not_started");

    let mut seen_progress = None;
    let job = service
        .await_job(&location, Duration::from_secs(600), |job| {
            let rows = job["rows"].as_i64().unwrap_or(0);
            if job["state"] == "started" && rows > 0 && rows < EVENTS {
                seen_progress.get_or_insert(rows);
            }
            job["state"] == "finished" || job["state"] == "failed"
        })
        .await;
    assert_eq!(job["state"], "finished", "{job}");
    assert_eq!(job["rows"], EVENTS);
    let progress = seen_progress.expect("rows grew while the job ran");
    let peak = service.peak_rss_kib();
    eprintln!(
        "1,000,000 rows, {} bytes; progress seen at {progress} rows; peak RSS {} KiB ({:.2} of the ceiling)",
        job["bytes"],
        peak,
        peak as f64 / RSS_CEILING_KIB as f64
    );
    assert!(peak < RSS_CEILING_KIB, "peak RSS {peak} KiB");

    // The file, through its presigned URL, row for row against the model.
    let expected: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, status FROM events WHERE accepted_at >= $1 AND accepted_at < $2 ORDER BY accepted_at, id",
    )
    .bind(day())
    .bind(day() + time::Duration::days(1))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(expected.len() as i64, EVENTS);
    let url = job["export_uri"].as_str().expect("a presigned URL");
    let response = reqwest::get(url).await.expect("download");
    assert!(response.status().is_success(), "{}", response.status());
    let mut body = response.bytes_stream();
    let (mut buffer, mut row, mut bytes) = (Vec::new(), 0usize, 0usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("download chunk");
        bytes += chunk.len();
        buffer.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) = buffer[start..].iter().position(|b| *b == b'\n') {
            let line: serde_json::Value =
                serde_json::from_slice(&buffer[start..start + end]).unwrap();
            let (id, status) = &expected[row];
            assert_eq!(
                (line["id"].as_str(), line["status"].as_str()),
                (Some(id.as_str()), Some(status.as_str())),
                "row {row}"
            );
            row += 1;
            start += end + 1;
        }
        buffer.drain(..start);
    }
    assert!(buffer.is_empty(), "the file ends with a whole line");
    assert_eq!(row, expected.len());
    assert_eq!(bytes as i64, job["bytes"].as_i64().unwrap());
}
