//! Support: find an event by correlation id and by a word in its body, read
//! the journey of one that was retried twice; a reader key cannot act.

use serde_json::json;

use super::browser::Browser;
use super::{session_of, tag};
use crate::support::{OPS_KEY, Options, READER_KEY, spawn_pipeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_finds_an_event_by_correlation_id_and_by_a_word_and_follows_its_retries() {
    let tag = tag();
    let id = format!("flaky-{tag}");
    let pipeline = spawn_pipeline(Options {
        flaky_ids: vec![(id.clone(), 2)],
        ..Options::default()
    })
    .await;
    let correlation = format!("order-{tag}");
    let word = format!("zebracorn{tag}");
    for (event, body, correlation) in [
        (
            &id,
            format!("parcel {word} left the depot"),
            Some(&correlation),
        ),
        (
            &format!("decoy-{tag}"),
            "an ordinary parcel".to_owned(),
            None,
        ),
    ] {
        let mut request = pipeline
            .http
            .post(format!("{}/events", pipeline.command_url))
            .bearer_auth(crate::support::SOURCE_KEY)
            .json(&json!({"id": event, "name": "parcel.shipped", "body": body, "timestamp": 1_790_000_000}));
        if let Some(correlation) = correlation {
            request = request.header("x-correlation-id", correlation);
        }
        assert_eq!(request.send().await.unwrap().status(), 202);
    }
    pipeline.await_status(&id, "delivered").await;
    pipeline
        .await_status(&format!("decoy-{tag}"), "delivered")
        .await;

    let browser = Browser::open(&pipeline.query_url, "support_search", 1280).await;
    browser.go("/console").await;
    assert!(
        browser.path().await.starts_with("/console/login"),
        "a visitor without a session is sent to sign in"
    );
    browser.sign_in(READER_KEY).await;

    browser.fill("#q", &correlation).await;
    browser.follow("form.search button[type=submit]").await;
    let found = browser.main_text().await;
    browser.shot("1-found-by-correlation-id").await;
    assert!(
        found.contains(&format!("Events with correlation id {correlation}")),
        "{found}"
    );
    assert!(found.contains(&id), "{found}");
    assert!(!found.contains(&format!("decoy-{tag}")), "{found}");

    browser.fill("#q", &word).await;
    browser.follow("form.search button[type=submit]").await;
    let found = browser.main_text().await;
    browser.shot("2-found-by-a-word").await;
    assert!(found.contains(&id), "{found}");
    assert!(!found.contains(&format!("decoy-{tag}")), "{found}");

    browser
        .follow(&format!("a[href='/console/events/{id}']"))
        .await;
    let journey = browser.main_text().await;
    browser.shot("3-journey").await;
    for step in [
        "Attempt 1 failed",
        "Attempt 2 failed",
        "Delivered on attempt 3",
    ] {
        assert!(journey.contains(step), "{step} in:\n{journey}");
    }
    assert_eq!(
        browser
            .client
            .find_all(fantoccini::Locator::Css("li.step.retrying"))
            .await
            .unwrap()
            .len(),
        2,
        "two failed attempts"
    );
    assert!(
        journey.contains("\"brand\": \"testBrand\""),
        "the payload as delivered: {journey}"
    );
    assert!(journey.contains(&correlation), "{journey}");
    let trace = pipeline.await_status(&id, "delivered").await["trace_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        browser
            .has(&format!("a[href='http://traces.test/trace/{trace}']"))
            .await,
        "the trace link"
    );

    // A phone's width: nothing wider than the screen.
    browser.client.set_window_size(390, 844).await.unwrap();
    let widths = browser
        .client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth]",
            vec![],
        )
        .await
        .unwrap();
    browser.shot("4-journey-on-a-phone").await;
    let (scroll, inner) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    eprintln!("console: journey at a phone's width: {scroll} px of content in {inner} px");
    assert!(
        scroll <= inner,
        "{scroll} px of content in a {inner} px window"
    );
    browser.client.set_window_size(1280, 800).await.unwrap();

    // A reader sees no actions, and the action itself is refused.
    browser.go("/console/delivery").await;
    browser.find("#state").await;
    browser.shot("5-delivery-as-a-reader").await;
    assert!(!browser.has("#pause").await, "no pause button for a reader");
    assert!(
        !browser.has("#resume").await,
        "no resume button for a reader"
    );
    browser.go("/console/dead-letters").await;
    assert!(
        !browser.has("input[name=id]").await,
        "nothing to select for a reader"
    );
    let (cookie, csrf) = session_of(&pipeline, READER_KEY, "/console/delivery").await;
    let refused = pipeline
        .http
        .post(format!("{}/console/delivery/controls", pipeline.query_url))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("action", "pause"),
            ("reason", "a reader tries"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "a reader's POST is refused");
    // An ops session's form without its token is refused too (CSRF).
    let (cookie, _) = session_of(&pipeline, OPS_KEY, "/console/delivery").await;
    let forged = pipeline
        .http
        .post(format!("{}/console/delivery/controls", pipeline.query_url))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", "not-the-token"),
            ("action", "pause"),
            ("reason", "forged"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        403,
        "a form without the session's token is refused"
    );
    let dispatcher: serde_json::Value = pipeline
        .http
        .get(format!("{}/status", pipeline.dispatcher_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        dispatcher["paused"], false,
        "neither refused POST paused delivery"
    );
    browser.close().await;
}
