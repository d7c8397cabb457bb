use std::collections::BTreeSet;

use crate::support::{Options, event, spawn_pipeline};
use regex::Regex;

/// The PromQL words that are not metric names.
const PROMQL_WORDS: &[&str] = &["and", "or", "unless", "bool", "offset"];

/// The metric names a PromQL expression reads.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let strings = Regex::new(r#""[^"]*""#).unwrap();
    let matchers = Regex::new(r"\{[^}]*\}").unwrap();
    let ranges = Regex::new(r"\[[^\]]*\]").unwrap();
    let groupings =
        Regex::new(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)").unwrap();
    let identifier = Regex::new(r"[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?").unwrap();
    let mut expr = strings.replace_all(expr, "").into_owned();
    for pattern in [&matchers, &ranges, &groupings] {
        expr = pattern.replace_all(&expr, " ").into_owned();
    }
    identifier
        .captures_iter(&expr)
        // A name followed by `(` is a function or an aggregation.
        .filter(|found| found.get(1).is_none())
        .map(|found| found[0].to_owned())
        .filter(|name| !PROMQL_WORDS.contains(&name.as_str()))
        .collect()
}

/// Every `expr` of the alert rules, and every query of the dashboard.
fn expressions() -> Vec<(String, String)> {
    let root = orch_testkit::repo_root();
    let rules = std::fs::read_to_string(root.join("ops/prometheus/alerts.yml")).unwrap();
    let alerts = rules
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("- alert:") || l.starts_with("- record:")
        })
        .count();
    let mut found: Vec<(String, String)> = rules
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("expr:"))
        .map(|expr| ("alerts.yml".to_owned(), expr.trim().to_owned()))
        .collect();
    assert_eq!(found.len(), alerts, "every rule has a one-line expr");
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("ops/grafana/pipeline.json")).unwrap(),
    )
    .expect("the dashboard is JSON");
    for panel in dashboard["panels"]
        .as_array()
        .expect("the dashboard has panels")
        .iter()
        // Rows only group the panels that follow them.
        .filter(|panel| panel["type"] != "row")
    {
        assert!(
            panel["fieldConfig"]["defaults"]["unit"].is_string(),
            "panel {} has a unit",
            panel["title"]
        );
        for target in panel["targets"].as_array().expect("each panel has queries") {
            let title = panel["title"].as_str().unwrap_or("?").to_owned();
            found.push((title, target["expr"].as_str().unwrap().to_owned()));
        }
    }
    found
}

#[test]
fn metric_names_are_read_out_of_promql() {
    let names = metric_names(
        r#"sum by (route) (rate(orch_http_requests_total{status=~"5.."}[5m])) / sum(rate(x_total[5m])) > 0.01 and deriv(orch_spool_depth_records[10m]) >= 0"#,
    );
    let expected: BTreeSet<String> = [
        "orch_http_requests_total",
        "x_total",
        "orch_spool_depth_records",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(names, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_alert_and_dashboard_query_names_metrics_the_services_export() {
    let pipeline = spawn_pipeline(Options::default()).await;
    // The archiver shares this process's registry: built, it registers its series.
    let prefix = &pipeline.kafka.kafka_topic_prefix;
    let _archiver = orch_archiver::Application::build(orch_archiver::ArchiverConfig::local(
        &pipeline.kafka.kafka_bootstrap_servers,
        prefix,
        orch_testkit::objects::create_bucket(prefix).await,
    ))
    .await
    .expect("archiver builds");
    assert_eq!(pipeline.post_event(&event("watched")).await.status(), 202);
    pipeline.await_status("watched", "delivered").await;

    let wanted: BTreeSet<(String, String)> = expressions()
        .into_iter()
        .flat_map(|(place, expr)| {
            metric_names(&expr)
                .into_iter()
                .map(move |name| (place.clone(), name))
        })
        .collect();
    assert!(wanted.len() > 20, "the files name metrics: {wanted:?}");
    // Recorded series (`level:metric:operations`) come from the rules file,
    // `up` from Prometheus itself; the rest must come from the services.
    let rules =
        std::fs::read_to_string(orch_testkit::repo_root().join("ops/prometheus/alerts.yml"))
            .unwrap();
    let wanted: BTreeSet<(String, String)> = wanted
        .into_iter()
        .filter(|(place, name)| {
            if name.contains(':') {
                assert!(
                    rules.contains(&format!("- record: {name}")),
                    "{place} reads {name}, which no rule records"
                );
                return false;
            }
            name != "up"
        })
        .collect();

    // Names a query reads that no service exports: none, once every series is up.
    pipeline
        .await_metrics(|scrape| {
            let exported: BTreeSet<&str> = scrape
                .lines()
                .filter(|line| !line.starts_with('#'))
                .filter_map(|line| line.split(['{', ' ']).next())
                .collect();
            wanted
                .iter()
                .filter(|(_, name)| !exported.contains(name.as_str()))
                .cloned()
                .collect()
        })
        .await;
}
