//! The console in a real headless Chromium against the whole pipeline:
//! support finds and follows events, ops redrive and control delivery, and
//! a reader key cannot act.

mod browser;
mod dead_letter_redrive;
mod delivery_controls;
mod exports;
mod support_search;

use crate::support::Pipeline;

/// Signs in over plain HTTP as a browser would and returns the session
/// cookie and the CSRF token of `page`, for requests a page would not send.
pub(crate) async fn session_of(pipeline: &Pipeline, key: &str, page: &str) -> (String, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = http
        .post(format!("{}/console/login", pipeline.query_url))
        .form(&[("key", key), ("next", "/console")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "a known key signs in");
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let html = http
        .get(format!("{}{page}", pipeline.query_url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token on the page")
        .to_owned();
    (cookie, csrf)
}

/// A short unique tag for ids and words of one test.
pub(crate) fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}
