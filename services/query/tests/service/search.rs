//! `GET /events` search: every filter answers what the table holds, page
//! by page in either order, and each bad parameter is named.

use serde_json::Value;
use sqlx::PgPool;

use crate::support::{Namespace, QueryProcess, day, rfc3339, seed_search};

/// Every id `path` lists, following `next_cursor` a page of 40 at a time.
async fn all_pages(query: &QueryProcess, path: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1_000 {
        let page_path = match &cursor {
            Some(cursor) => format!("{path}&limit=40&cursor={cursor}"),
            None => format!("{path}&limit=40"),
        };
        let (status, _, page) = query.get_answer(&page_path).await;
        assert_eq!(status, 200, "{page_path}: {page}");
        ids.extend(
            page["events"]
                .as_array()
                .expect("events")
                .iter()
                .map(|event| event["id"].as_str().expect("id").to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
    panic!("{path} never reached its last page");
}

/// The ids a plain SQL condition selects, in the listing's order: the
/// ground truth each search is held to.
async fn truth(pool: &PgPool, condition: &str, bind: &str, oldest_first: bool) -> Vec<String> {
    let order = if oldest_first {
        "accepted_at, id"
    } else {
        "accepted_at DESC, id DESC"
    };
    sqlx::query_scalar(&format!(
        "SELECT id FROM events WHERE accepted_at IS NOT NULL AND {condition} ORDER BY {order}"
    ))
    .bind(bind)
    .fetch_all(pool)
    .await
    .expect("ground truth")
}

#[tokio::test]
async fn every_filter_lists_what_the_table_holds_page_by_page_in_either_order() {
    let ns = Namespace::new().await;
    let query = QueryProcess::start(&ns, &[]).await;
    let pool = ns.pool().await;
    seed_search(&pool, day(), 3_000, 1_000_000, "s").await;
    // LIKE's own characters are searched for as text, not as wildcards.
    for (id, note) in [
        ("promo-literal", "50%_off today"),
        ("promo-lookalike", "50xxoff today"),
    ] {
        sqlx::query(
            "WITH seeded AS (INSERT INTO events (id, name, body, accepted_at, status, \
             status_generation, status_rank, status_attempt, status_at, updated_at) \
             VALUES ($1, 'promo.sent', $2, $3, 'accepted', 0, 0, 0, $3, $3) RETURNING id, name, body) \
             INSERT INTO event_search (id, document) SELECT id, name || ' ' || body FROM seeded",
        )
        .bind(id)
        .bind(format!("{{\"note\":\"{note}\"}}"))
        .bind(day() + time::Duration::hours(2))
        .execute(&pool)
        .await
        .unwrap();
    }
    let trace: String = sqlx::query_scalar("SELECT trace_id FROM events WHERE id = 's-00000042'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let text = "(coalesce(name, '') || ' ' || coalesce(body, ''))";
    let cases = [
        (
            "correlation_id=s-corr-7".to_owned(),
            truth(&pool, "correlation_id = $1", "s-corr-7", false).await,
        ),
        (
            // Upper case is folded to the stored lower case.
            format!("trace_id={}", trace.to_uppercase()),
            truth(&pool, "trace_id = $1", &trace, false).await,
        ),
        (
            "q=grace%20HOPPER".to_owned(),
            truth(
                &pool,
                &format!("strpos(lower({text}), $1) > 0"),
                "grace hopper",
                false,
            )
            .await,
        ),
        (
            "q=50%25_off".to_owned(),
            truth(&pool, &format!("strpos({text}, $1) > 0"), "50%_off", false).await,
        ),
        (
            "status=dead_lettered&error_kind=client_error".to_owned(),
            truth(
                &pool,
                "status = 'dead_lettered' AND last_error_kind = $1",
                "client_error",
                false,
            )
            .await,
        ),
        (
            "http_status=429".to_owned(),
            truth(&pool, "last_http_status = $1::int", "429", false).await,
        ),
        (
            format!(
                "sort=oldest&q=alan&from={}",
                rfc3339(day() + time::Duration::minutes(10))
            ),
            truth(
                &pool,
                &format!(
                    "strpos(lower({text}), $1) > 0 AND accepted_at >= '{}'",
                    rfc3339(day() + time::Duration::minutes(10))
                ),
                "alan",
                true,
            )
            .await,
        ),
    ];
    for (filter, expected) in cases {
        assert!(!expected.is_empty(), "{filter}: the seed has matches");
        let listed = all_pages(&query, &format!("/events?{filter}")).await;
        eprintln!("search: {filter} → {} events", listed.len());
        assert_eq!(listed, expected, "{filter}");
    }
    assert_eq!(
        all_pages(&query, "/events?q=50%25_off").await,
        ["promo-literal"],
        "a literal % and _ match only themselves"
    );
}

#[tokio::test]
async fn each_bad_search_parameter_is_named_in_a_problem() {
    let ns = Namespace::new().await;
    let query = QueryProcess::start(&ns, &[]).await;
    let newest = {
        let (_, _, page) = query.get_answer("/events?limit=1").await;
        page
    };
    assert_eq!(newest["events"], Value::Array(Vec::new()), "an empty model");
    for (filter, field) in [
        ("correlation_id=a%20b", "correlation_id"),
        ("trace_id=00000000000000000000000000000000", "trace_id"),
        ("trace_id=not-hex", "trace_id"),
        ("q=ab", "q"),
        ("q=a%09bc", "q"),
        ("error_kind=unlucky", "error_kind"),
        ("http_status=99", "http_status"),
        ("sort=sideways", "sort"),
        ("overdue=yes", "overdue"),
        ("colour=red", "colour"),
    ] {
        let (status, content_type, problem) = query.get_answer(&format!("/events?{filter}")).await;
        assert_eq!(status, 400, "{filter}: {problem}");
        assert_eq!(content_type, "application/problem+json", "{filter}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(field), "{filter}: {detail}");
    }
}
