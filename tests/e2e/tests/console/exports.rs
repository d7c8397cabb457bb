//! Exports from the console: start one, see it finish, download its file.

use serde_json::json;

use super::browser::Browser;
use super::tag;
use crate::support::{Options, READER_KEY, event, spawn_pipeline};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_starts_an_export_and_downloads_its_file_once_written() {
    let tag = tag();
    let pipeline = spawn_pipeline(Options {
        exports: true,
        ..Options::default()
    })
    .await;
    let ids: Vec<String> = (0..3).map(|n| format!("exported-{tag}-{n}")).collect();
    for id in &ids {
        assert_eq!(pipeline.post_event(&event(id)).await.status(), 202);
    }
    for id in &ids {
        pipeline.await_status(id, "delivered").await;
    }

    let browser = Browser::open(&pipeline.query_url, "exports", 1280).await;
    browser.sign_in(READER_KEY).await;
    browser.go("/console/exports").await;
    let today = time::OffsetDateTime::now_utc().date();
    let day = |date: time::Date| format!("{date}T00:00");
    // datetime-local fields take their value as the browser's own format.
    browser
        .client
        .execute(
            "document.querySelector('#from').value = arguments[0]; \
             document.querySelector('#to').value = arguments[1];",
            vec![json!(day(today)), json!(day(today.next_day().unwrap()))],
        )
        .await
        .unwrap();
    browser
        .find("#format option[value='csv']")
        .await
        .click()
        .await
        .unwrap();
    browser.follow("form.search button[type=submit]").await;
    let listed = browser
        .await_text("the export finished", |text| text.contains("finished"))
        .await;
    browser.shot("1-export-finished").await;
    assert!(listed.contains("csv"), "{listed}");
    let link = browser
        .find("a[download]")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("a download link");
    let file = reqwest::get(&link).await.unwrap().text().await.unwrap();
    for id in &ids {
        assert!(file.contains(id.as_str()), "{id} in the file:\n{file}");
    }
    browser.go("/console/audit").await;
    assert!(browser.main_text().await.contains("export"));
    browser.close().await;
}
