use std::collections::HashMap;
use std::time::Duration;

use orch_testkit::Postgres;
use sqlx::PgPool;
use tokio::time::Instant;

use crate::support::{Options, PATIENCE, Pipeline, event, spawn_pipeline};

/// How long Postgres stays down while events keep coming.
const OUTAGE: Duration = Duration::from_secs(60);

/// Each projected event's position: (generation, rank, attempt).
async fn positions(pool: &PgPool) -> HashMap<String, (i32, i16, i32)> {
    sqlx::query_as::<_, (String, i32, i16, i32)>(
        "SELECT id, status_generation, status_rank, status_attempt FROM events",
    )
    .fetch_all(pool)
    .await
    .expect("read positions")
    .into_iter()
    .map(|(id, generation, rank, attempt)| (id, (generation, rank, attempt)))
    .collect()
}

/// Posts the next event, which must be accepted: ingest does not need Postgres.
async fn post_next(pipeline: &Pipeline, posted: &mut Vec<String>) {
    let id = format!("load-{}", posted.len());
    let response = pipeline.post_event(&event(&id)).await;
    assert_eq!(response.status(), 202, "{id} not accepted");
    posted.push(id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_under_load_is_a_503_then_a_catch_up_with_nothing_lost() {
    let postgres = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let pipeline = spawn_pipeline(Options {
        database_url: Some(postgres.database_url()),
        ..Options::default()
    })
    .await;
    let mut posted = Vec::new();
    for _ in 0..50 {
        post_next(&pipeline, &mut posted).await;
    }
    pipeline.await_status("load-49", "delivered").await;
    let before = {
        let pool = PgPool::connect(&postgres.database_url()).await.unwrap();
        let before = positions(&pool).await;
        pool.close().await;
        before
    };

    let postgres = tokio::task::spawn_blocking(move || {
        postgres.stop();
        postgres
    })
    .await
    .unwrap();
    // Load goes on for the whole outage; meanwhile every look-up is a 503
    // problem once the pool notices.
    let outage_ends = Instant::now() + OUTAGE;
    let load = async {
        while Instant::now() < outage_ends {
            post_next(&pipeline, &mut posted).await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let probe = async {
        let mut unavailable = 0;
        while Instant::now() < outage_ends {
            let response = pipeline
                .http
                .get(format!("{}/events/load-0", pipeline.query_url))
                .bearer_auth(crate::support::READER_KEY)
                .send()
                .await
                .expect("the query service answers while Postgres is down");
            match response.status().as_u16() {
                503 => {
                    unavailable += 1;
                    let content_type = response.headers()["content-type"].to_str().unwrap();
                    assert_eq!(content_type, "application/problem+json");
                    let problem: serde_json::Value = response.json().await.unwrap();
                    assert_eq!(problem["status"], 503, "{problem}");
                }
                status => assert_eq!(status, 200, "before the pool notices, the old answer"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        unavailable
    };
    let ((), unavailable) = tokio::join!(load, probe);
    assert!(unavailable > 0, "no 503 during a {OUTAGE:?} outage");
    let postgres = tokio::task::spawn_blocking(move || {
        postgres.up();
        postgres
    })
    .await
    .unwrap();

    // The projector catches up: every event accepted, before or during the
    // outage, ends delivered in the read model; none moved backwards.
    let last = posted.last().unwrap().clone();
    pipeline.await_status(&last, "delivered").await;
    let pool = PgPool::connect(&postgres.database_url()).await.unwrap();
    let deadline = Instant::now() + PATIENCE;
    let after = loop {
        let after = positions(&pool).await;
        let delivered = posted
            .iter()
            .filter(|id| {
                after
                    .get(*id)
                    .is_some_and(|&(_, rank, _)| rank == orch_contracts::Status::Delivered.rank())
            })
            .count();
        if delivered == posted.len() {
            break after;
        }
        assert!(
            Instant::now() < deadline,
            "{delivered} of {} events delivered in the read model",
            posted.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        posted.len() > 500,
        "load during the outage: {}",
        posted.len()
    );
    for (id, position) in &before {
        assert!(
            after[id] >= *position,
            "{id} moved back from {position:?} to {:?}",
            after[id]
        );
    }
    assert_eq!(
        after.len(),
        posted.len(),
        "no event projected twice or invented"
    );
}
