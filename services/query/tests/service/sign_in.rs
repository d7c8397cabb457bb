//! Console sign-in: guessing keys is throttled before any key is checked,
//! and a session is a cookie fit for a browser and nothing else.

use crate::support::{Namespace, QueryProcess, READER_KEY};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_known_key_gets_a_strict_cookie_and_a_flood_of_guesses_is_throttled() {
    let ns = Namespace::new().await;
    let query = QueryProcess::start(&ns, &[]).await;
    let http = client();
    let signed_in = http
        .post(format!("{}/console/login", query.url))
        .form(&[("key", READER_KEY), ("next", "/console/delivery")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/console/delivery");
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP, no proxy: {cookie}");
    let behind_tls = http
        .post(format!("{}/console/login", query.url))
        .header("x-forwarded-proto", "https")
        .form(&[("key", READER_KEY)])
        .send()
        .await
        .unwrap();
    assert!(
        behind_tls.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure"),
        "behind TLS the cookie is Secure"
    );

    let started = std::time::Instant::now();
    let (mut refused, mut throttled) = (0u32, 0u32);
    for n in 0..60 {
        let guess = http
            .post(format!("{}/console/login", query.url))
            .form(&[("key", format!("guess-{n}"))])
            .send()
            .await
            .unwrap();
        match guess.status().as_u16() {
            401 => refused += 1,
            429 => throttled += 1,
            other => panic!("a guess was answered {other}"),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("sign-in: 60 guesses in {seconds:.2} s: {refused} checked, {throttled} throttled");
    assert!(throttled > 0, "a flood of guesses is throttled");
    // Two sign-ins above, a burst of 20, then 5 a second.
    assert!(
        f64::from(refused) <= 18.0 + 5.0 * seconds + 1.0,
        "{refused} guesses checked in {seconds:.2} s"
    );
    let console = http
        .get(format!("{}/console", query.url))
        .header("cookie", cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(console.status(), 200, "the session still works");
    let content_security = console.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_security.contains("default-src 'none'"),
        "{content_security}"
    );
    assert_eq!(console.headers()["x-frame-options"], "DENY");
}
