//! Hostile input: text built to break a query, a statement or markup reaches
//! the target and Postgres byte for byte; requests built to break the parser
//! or the server are refused with a clear answer, and nothing of them is kept.

use serde_json::{Value, json};

use crate::support::{Options, READER_KEY, SOURCE_KEY, spawn_pipeline};

/// Ids and texts that would do harm if any hop built a query, a statement,
/// a path or markup from them.
const HOSTILE: &[(&str, &str)] = &[
    (
        "x'); DROP TABLE events; --",
        "'; DELETE FROM event_history WHERE ('1'='1",
    ),
    (
        r#"") { id } } mutation { clearItems } #"#,
        r#"{ getItems { id } } mutation { createItem(id: "evil", name: "", body: "", timestamp: 0, brand: "") { id } }"#,
    ),
    (
        "../../etc/passwd?a=b#c",
        "%00 %2e%2e%2f $1 $$ ${jndi:ldap://x} {{7*7}}",
    ),
    (
        "<script>alert(1)</script>",
        "line\nbreak\r\n\ttab \u{202e}rtl\u{202c} 🚀 e\u{301} \u{feff}",
    ),
    (
        r"back\slash\\u0000",
        r#"{"nested": ["json", {"as": "text"}]}"#,
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_reaches_the_target_and_postgres_as_inert_data() {
    let pipeline = spawn_pipeline(Options::default()).await;
    let mut lookups = Vec::new();
    for (id, text) in HOSTILE {
        let mut body = json!({ "id": id, "name": text, "body": text, "timestamp": 1_795_255_200 });
        body[*text] = json!(id);
        let response = pipeline.post_event(&body).await;
        assert_eq!(response.status(), 202, "{id}");
        let accepted: Value = response.json().await.unwrap();
        // The status URL escapes the id: it must name this event and no other path.
        let path = accepted["status_url"]
            .as_str()
            .unwrap()
            .strip_prefix("http://query.test")
            .unwrap()
            .to_owned();
        lookups.push((*id, *text, path));
    }

    for (id, text, path) in &lookups {
        let view = pipeline.await_status(id, "delivered").await;
        // The status URL the source was given names this event and no other.
        let (code, by_status_url) = pipeline.query_get(path).await;
        assert_eq!((code, &by_status_url["id"]), (200, &view["id"]), "{path}");
        assert_eq!(
            (
                view["id"].as_str(),
                view["name"].as_str(),
                view["body"].as_str()
            ),
            (Some(*id), Some(*text), Some(*text))
        );
        let item = pipeline
            .target_graphql(
                "query($id: ID!) { getItem(id: $id) { id name body } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            item["data"]["getItem"],
            json!({ "id": id, "name": text, "body": text })
        );
    }

    // Nothing ran: the target holds exactly these items (none cleared, none
    // invented) and the read model's tables and rows are all there.
    let stats = pipeline.target_stats().await;
    assert_eq!(
        (stats.accepted, stats.duplicates),
        (HOSTILE.len() as u64, 0)
    );
    let items = pipeline
        .target_graphql("{ getItems { id } }", json!({}))
        .await;
    assert_eq!(
        items["data"]["getItems"].as_array().unwrap().len(),
        HOSTILE.len()
    );
    let pool = sqlx::PgPool::connect(&pipeline.database_url).await.unwrap();
    let (events, history): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM event_history)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(events, HOSTILE.len() as i64);
    assert_eq!(
        history,
        2 * HOSTILE.len() as i64,
        "accepted and delivered for each"
    );
    let extra: Value = sqlx::query_scalar("SELECT extra FROM events WHERE id = $1")
        .bind(HOSTILE[0].0)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(extra, json!({ HOSTILE[0].1: HOSTILE[0].0 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fields_at_the_edges_of_json_come_back_as_sent() {
    let pipeline = spawn_pipeline(Options::default()).await;
    // Numbers jsonb would rewrite into forms JSON readers refuse or round, and
    // the deepest nesting the command takes: each must be delivered and shown.
    let deep = format!("{}1{}", "[".repeat(32), "]".repeat(32));
    let edges = [
        ("edge-max", "1.7976931348623157e308".to_owned()),
        ("edge-min", "5e-324".to_owned()),
        ("edge-big", "-9007199254740993".to_owned()),
        ("edge-deep", deep),
    ];
    for (id, value) in &edges {
        let body = format!(r#"{{"id":"{id}","name":"n","body":"b","timestamp":0,"kept":{value}}}"#);
        let response = pipeline.post_event_bytes(body).await;
        assert_eq!(response.status(), 202, "{id}");
    }
    for (id, value) in &edges {
        let view = pipeline.await_status(id, "delivered").await;
        let sent: Value = serde_json::from_str(value).unwrap();
        assert_eq!(view["extra"], json!({ "kept": sent }), "{id}");
        // Read as text too: the number comes back in the form it went in.
        let text = pipeline
            .http
            .get(format!("{}/events/{id}", pipeline.query_url))
            .bearer_auth(READER_KEY)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            text.contains(&format!(r#""extra":{{"kept":{}}}"#, sent)),
            "{id}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_built_to_break_the_parser_are_refused_and_nothing_is_kept() {
    let pipeline = spawn_pipeline(Options {
        without_dispatcher: true,
        without_query: true,
        ..Options::default()
    })
    .await;
    let url = format!("{}/events", pipeline.command_url);
    let valid = |filler: &str| {
        json!({ "id": "ok", "name": filler, "body": "b", "timestamp": 0 })
            .to_string()
            .into_bytes()
    };

    let nested = format!("{}{}", "[".repeat(30_000), "]".repeat(30_000));
    let mut bad_utf8 = br#"{"id":"u","name":""#.to_vec();
    bad_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    bad_utf8.extend_from_slice(br#"","body":"b","timestamp":0}"#);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("over the 64 KiB limit", valid(&"x".repeat(70 * 1024)), 413),
        ("arrays nested 30,000 deep", nested.into_bytes(), 400),
        (
            "a deep object",
            format!("{}1{}", r#"{"a":"#.repeat(5_000), "}".repeat(5_000)).into_bytes(),
            400,
        ),
        ("invalid UTF-8 in a string", bad_utf8, 400),
        (
            "an unknown field nested 33 deep",
            format!(
                r#"{{"id":"d","name":"n","body":"b","timestamp":0,"deep":{}1{}}}"#,
                "[".repeat(33),
                "]".repeat(33)
            )
            .into_bytes(),
            422,
        ),
        (
            "NUL in the body",
            json!({ "id": "n", "name": "a", "body": "\u{0}", "timestamp": 0 })
                .to_string()
                .into_bytes(),
            422,
        ),
    ];
    for (what, body, status) in cases {
        let response = pipeline.post_event_bytes(body).await;
        assert_eq!(response.status(), status, "{what}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert_eq!(content_type, "application/problem+json", "{what}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], status, "{what}");
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}"
        );
    }

    // Header floods are refused by the server before any handler runs.
    let mut flood = pipeline
        .http
        .post(&url)
        .bearer_auth(SOURCE_KEY)
        .json(&json!({}));
    for n in 0..500 {
        flood = flood.header(format!("x-flood-{n}"), "v".repeat(64));
    }
    let flooded = flood.send().await;
    assert!(
        flooded.as_ref().map_or(true, |r| r.status() == 431),
        "a header flood got {:?}",
        flooded.map(|r| r.status())
    );
    let huge = pipeline
        .http
        .post(&url)
        .bearer_auth(SOURCE_KEY)
        .header("x-huge", "v".repeat(1 << 20))
        .json(&json!({}))
        .send()
        .await;
    assert!(
        huge.as_ref().map_or(true, |r| r.status() == 431),
        "a 1 MiB header got {:?}",
        huge.map(|r| r.status())
    );

    // The service still takes a valid event, and only that one reached Kafka.
    let response = pipeline.post_event_bytes(valid("fine")).await;
    assert_eq!(response.status(), 202);
    let raw = pipeline.read_topic(&pipeline.kafka.topics().raw, 1).await;
    assert_eq!(raw.len(), 1);
    let size =
        orch_testkit::topic_size(&crate::support::bootstrap(), &pipeline.kafka.topics().raw).await;
    assert_eq!(size, 1, "only the valid event was kept");
}
