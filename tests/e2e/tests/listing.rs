use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{Options, event, spawn_pipeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_listed_newest_first_a_page_at_a_time_and_counted_by_status() {
    let pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        ..Options::default()
    })
    .await;
    let ids: Vec<String> = (0..5).map(|i| format!("listed-{i}")).collect();
    for id in &ids {
        assert_eq!(pipeline.post_event(&event(id)).await.status(), 202);
    }
    for id in &ids {
        pipeline.await_status(id, "accepted").await;
    }

    // Three pages of 2, 2 and 1, following next_cursor.
    let mut listed = Vec::new();
    let mut path = "/events?status=accepted&limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (code, page) = pipeline.query_get(&path).await;
        assert_eq!(code, 200, "{page}");
        pages += 1;
        listed.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/events?status=accepted&limit=2&cursor={cursor}"),
            None => break,
        }
        assert!(pages < 5, "pagination does not end");
    }
    assert_eq!(pages, 3);
    let listed_ids: Vec<&str> = listed.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(
        listed_ids.iter().copied().collect::<BTreeSet<_>>(),
        ids.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        "every event exactly once"
    );
    assert_eq!(listed_ids.len(), ids.len());
    let order: Vec<(&str, &str)> = listed
        .iter()
        .map(|e| {
            (
                e["accepted_at"].as_str().unwrap(),
                e["id"].as_str().unwrap(),
            )
        })
        .collect();
    let mut newest_first = order.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, newest_first, "newest first");

    // Filters narrow the listing.
    let (_, delivered) = pipeline.query_get("/events?status=delivered").await;
    assert_eq!(delivered["events"], Value::Array(vec![]));
    let (_, future) = pipeline
        .query_get("/events?from=2099-01-01T00:00:00Z")
        .await;
    assert_eq!(future["events"], Value::Array(vec![]));

    let (code, stats) = pipeline.query_get("/stats").await;
    assert_eq!(code, 200);
    assert_eq!(stats["total"], 5);
    assert_eq!(stats["by_status"]["accepted"], 5);
    assert_eq!(stats["by_status"]["delivered"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filters_and_missing_keys_get_problems_naming_the_cause() {
    let pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        ..Options::default()
    })
    .await;
    for (query, named) in [
        ("status=lost", "status"),
        ("from=yesterday", "from"),
        ("limit=0", "limit"),
        ("cursor=forged", "cursor"),
        ("colour=red", "colour"),
    ] {
        let (code, problem) = pipeline.query_get(&format!("/events?{query}")).await;
        assert_eq!(code, 400, "{query}: {problem}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(named), "{query}: {detail}");
    }
    let response = pipeline
        .http
        .get(format!("{}/stats", pipeline.query_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
