use orch_query::rebuild::{self, SchemaName};
use orchctl::rebuild::{RebuildArgs, execute, plan};
use sqlx::PgPool;

use crate::support::{Options, Pipeline, event, spawn_pipeline};

/// `orchctl projection rebuild` as the command line would run it.
fn args(pipeline: &Pipeline, schema: &str, promote: bool) -> RebuildArgs {
    RebuildArgs {
        database_url: pipeline.database_url.clone().into(),
        schema: Some(schema.parse().unwrap()),
        live_schema: public(),
        group: pipeline.query_config.group_id.clone(),
        promote,
        wait_secs: 60,
        dry_run: false,
        kafka: pipeline.kafka.clone(),
    }
}

fn public() -> SchemaName {
    "public".parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_from_the_log_reproduces_the_live_model_in_every_column() {
    // A history worth rebuilding: a refused event dead-lettered, redriven in a
    // second generation once fixed, and plain deliveries around it.
    let mut pipeline = spawn_pipeline(Options {
        refused_ids: vec!["refused".into()],
        ..Options::default()
    })
    .await;
    assert_eq!(pipeline.post_event(&event("refused")).await.status(), 202);
    pipeline.await_status("refused", "dead_lettered").await;
    pipeline.clear_target_faults().await;
    orchctl::redrive::redrive(&orchctl::redrive::RedriveArgs {
        filter: orchctl::dead_letters::LetterFilter {
            ids: vec!["refused".into()],
            ..Default::default()
        },
        dry_run: false,
        archive: Default::default(),
        kafka: pipeline.kafka.clone(),
        output: Default::default(),
    })
    .await
    .unwrap();
    let ids: Vec<String> = (0..25).map(|i| format!("plain-{i}")).collect();
    for id in &ids {
        assert_eq!(pipeline.post_event(&event(id)).await.status(), 202);
    }
    pipeline.await_status("refused", "delivered").await;
    for id in &ids {
        pipeline.await_status(id, "delivered").await;
    }

    // Compared while the services run: the rebuild waits for the live
    // projector to reach the same end, then every column must match.
    let compared = args(&pipeline, "rebuild_compare", false);
    let planned = plan(&compared).unwrap();
    assert!(
        planned.records() > 2 * 26,
        "raw and status records: {}",
        planned.records()
    );
    let report = execute(&compared, &planned).await.unwrap();
    assert_eq!(report.records, u64::try_from(planned.records()).unwrap());
    assert!(report.matches(), "{report:?}");
    let live = report.live.clone().unwrap();
    assert_eq!(live.events, 26);

    // A tampered row is found, by id.
    let pool = PgPool::connect(&pipeline.database_url).await.unwrap();
    sqlx::query("UPDATE events SET brand = 'tampered' WHERE id = 'plain-3'")
        .execute(&pool)
        .await
        .unwrap();
    let tampered = args(&pipeline, "rebuild_tampered", false);
    let report = execute(&tampered, &plan(&tampered).unwrap()).await.unwrap();
    assert!(!report.matches());
    let difference = report.difference.unwrap();
    assert_eq!(
        (difference.events, difference.sample_ids),
        (1, vec!["plain-3".to_owned()])
    );
    sqlx::query("UPDATE events SET brand = 'testBrand' WHERE id = 'plain-3'")
        .execute(&pool)
        .await
        .unwrap();

    // Promoting is refused while the query service's projector is live.
    let refused = plan(&args(&pipeline, "rebuild_refused", true)).unwrap_err();
    assert!(refused.to_string().contains("active member"), "{refused}");

    // Postgres lost its tables: stop the query service, rebuild, promote.
    pipeline.stop_query().await;
    sqlx::query("DROP TABLE events, event_history, event_search")
        .execute(&pool)
        .await
        .unwrap();
    let promoted = args(&pipeline, "rebuild_promote", true);
    let report = execute(&promoted, &plan(&promoted).unwrap()).await.unwrap();
    assert!(report.live.is_none(), "no live model was left to compare");
    assert!(report.retired.is_some());
    assert_eq!(rebuild::checksum(&pool, &public()).await.unwrap(), live);

    // The query service serves the promoted model and resumes projecting.
    pipeline.start_query().await;
    let view = pipeline.await_status("refused", "delivered").await;
    assert_eq!(view["generation"], 1);
    assert_eq!(view["last_http_status"], 200);
    assert_eq!(view["last_error_kind"], "client_error");
    assert_eq!(pipeline.post_event(&event("after")).await.status(), 202);
    pipeline.await_status("after", "delivered").await;
}
