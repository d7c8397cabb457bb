use orch_testkit::Postgres;
use sqlx::PgPool;

use crate::support::{Options, event, spawn_pipeline};

/// RDS with `rds.force_ssl` refuses connections without TLS: the query
/// service must project and answer over TLS, verifying the server's
/// certificate when given its CA, as `DATABASE_URL` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_service_works_against_a_postgres_that_requires_tls() {
    let postgres = tokio::task::spawn_blocking(Postgres::start_tls_only)
        .await
        .unwrap();
    let plain = format!("{}?sslmode=disable", postgres.database_url());
    let refused = PgPool::connect(&plain).await.unwrap_err().to_string();
    assert!(refused.contains("no encryption"), "{refused}");

    let verified = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        postgres.database_url(),
        postgres.ca_location().display()
    );
    let pipeline = spawn_pipeline(Options {
        database_url: Some(verified.clone()),
        ..Options::default()
    })
    .await;
    let response = pipeline.post_event(&event("tls-1")).await;
    assert_eq!(response.status(), 202);
    pipeline.await_status("tls-1", "delivered").await;

    let pool = PgPool::connect(&verified).await.unwrap();
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(encrypted);
    pool.close().await;
}
