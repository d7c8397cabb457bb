//! Ops: filter dead letters by reason, preview a redrive, confirm it, and
//! watch those events end delivered; the audit log records it.

use super::browser::Browser;
use super::tag;
use crate::support::{OPS_KEY, Options, event, spawn_pipeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_filter_dead_letters_by_reason_preview_a_redrive_confirm_it_and_see_them_delivered() {
    let tag = tag();
    let refused: Vec<String> = (0..3).map(|n| format!("refused-{tag}-{n}")).collect();
    // Answered 503 more often than the dispatcher tries (3): dead-lettered
    // for another reason, which the filter must leave out.
    let failing = format!("failing-{tag}");
    let mut pipeline = spawn_pipeline(Options {
        refused_ids: refused.clone(),
        flaky_ids: vec![(failing.clone(), 1_000)],
        ..Options::default()
    })
    .await;
    for id in refused.iter().chain([&failing]) {
        assert_eq!(pipeline.post_event(&event(id)).await.status(), 202);
    }
    for id in refused.iter().chain([&failing]) {
        pipeline.await_status(id, "dead_lettered").await;
    }
    let (_, failing_view) = pipeline.get_event(&failing).await;
    let other_kind = failing_view["last_error_kind"].as_str().unwrap().to_owned();
    assert_ne!(other_kind, "client_error", "two reasons to tell apart");

    let browser = Browser::open(&pipeline.query_url, "dead_letter_redrive", 1280).await;
    browser.sign_in(OPS_KEY).await;
    browser.go("/console/dead-letters").await;
    let all = browser.main_text().await;
    assert!(all.contains("4 dead letters match"), "{all}");
    browser
        .find("#error_kind option[value='client_error']")
        .await
        .click()
        .await
        .unwrap();
    browser.follow("form.search button[type=submit]").await;
    let filtered = browser.main_text().await;
    browser.shot("1-dead-letters-by-reason").await;
    assert!(filtered.contains("3 dead letters match"), "{filtered}");
    for id in &refused {
        assert!(filtered.contains(id.as_str()), "{id} in:\n{filtered}");
    }
    assert!(!filtered.contains(&failing), "{filtered}");

    // The target is mended; the refused events can go.
    pipeline.clear_target_faults().await;
    browser.follow("button[name=scope][value=all]").await;
    let preview = browser.main_text().await;
    browser.shot("2-redrive-preview").await;
    assert!(browser.path().await.starts_with("/console/redrives/"));
    assert_eq!(
        browser.find("#redrive-count").await.text().await.unwrap(),
        "3"
    );
    for id in &refused {
        assert!(
            preview.contains(id.as_str()),
            "{id} in the preview:\n{preview}"
        );
    }
    assert!(
        preview.contains("events/s for the whole group"),
        "the rate: {preview}"
    );
    for id in &refused {
        let (_, view) = pipeline.get_event(id).await;
        assert_eq!(
            view["status"], "dead_lettered",
            "nothing published before confirming"
        );
    }

    browser.follow("#confirm").await;
    let done = browser
        .await_text("every redriven event delivered", |text| {
            text.contains("3 delivered, 0 dead-lettered again, 0 on their way")
        })
        .await;
    browser.shot("3-redrive-progress").await;
    assert!(done.contains("Published 3"), "{done}");
    for id in &refused {
        let view = pipeline.await_status(id, "delivered").await;
        assert_eq!(view["generation"], 1, "{id} went round once more");
    }
    let (_, failing_view) = pipeline.get_event(&failing).await;
    assert_eq!(
        failing_view["status"], "dead_lettered",
        "the other reason was left alone"
    );

    // A second confirmation publishes nothing more.
    browser.go(&browser.path().await).await;
    assert!(!browser.has("#confirm").await, "confirmed once");

    browser.go("/console/audit").await;
    let audit = browser.main_text().await;
    browser.shot("4-audit-log").await;
    assert!(audit.contains("redrive"), "{audit}");
    assert!(audit.contains("ops-test"), "who: {audit}");
    assert!(audit.contains("\"published\":3"), "what: {audit}");
    browser.close().await;
    pipeline.stop_dispatcher().await;
}
