//! A real headless Chromium (Debian's `chromium`, driven by its
//! `chromedriver` over WebDriver; `dev/browser install`), one per test, on
//! a fresh profile, with screenshots kept for review.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long a page or element may take to appear.
const PATIENCE: Duration = Duration::from_secs(30);

/// A browser for one test; its driver is killed when dropped.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    base: String,
    shots: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn tool(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

impl Browser {
    /// A browser at 1280×800 (or `width`×800) for the console at `base`;
    /// screenshots go to `<target>/tmp/console-screenshots/<test>/`.
    pub(crate) async fn open(base: &str, test: &str, width: u32) -> Self {
        let port = orch_testkit::free_port();
        let driver = Command::new(tool("CHROMEDRIVER", "chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (dev/browser install)");
        let profile = orch_testkit::scratch_dir(&format!("chromium-{test}"));
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": tool("CHROME_BIN", "/usr/bin/chromium"),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-extensions",
                    format!("--window-size={width},800"),
                    format!("--user-data-dir={}", profile.display()),
                ],
            }
        });
        let capabilities = match capabilities {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let client = loop {
            // The driver takes a moment to listen.
            // The driver is on loopback: plain HTTP, no TLS stack.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(error) => {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "chromedriver did not start a browser: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("console-screenshots")
            .join(test);
        std::fs::create_dir_all(&shots).expect("a screenshot directory");
        Self {
            client,
            driver,
            base: base.trim_end_matches('/').to_owned(),
            shots,
        }
    }

    /// Opens `path` of the console's service.
    pub(crate) async fn go(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|error| panic!("open {path}: {error}"));
    }

    /// The page's address, without the host.
    pub(crate) async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        let url = url.as_str();
        url.strip_prefix(self.base.as_str())
            .unwrap_or(url)
            .to_owned()
    }

    /// Waits for an element matching `css`.
    pub(crate) async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => panic!("no {css} on {}: {error}", self.path().await),
        }
    }

    /// Whether an element matching `css` is on the page now.
    pub(crate) async fn has(&self, css: &str) -> bool {
        self.client
            .find_all(Locator::Css(css))
            .await
            .is_ok_and(|found| !found.is_empty())
    }

    /// Types `text` into the field `css` (cleared first).
    pub(crate) async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Clicks `css`.
    pub(crate) async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("click");
    }

    /// Clicks `css`, which loads another page, and waits until the old page
    /// is gone: a click returns before the navigation it starts may finish,
    /// and reading at once can see the page that was clicked on.
    pub(crate) async fn follow(&self, css: &str) {
        let old_page = self
            .client
            .find(Locator::Css("html"))
            .await
            .expect("a page");
        self.click(css).await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        // An element of a page that has been replaced answers "stale".
        while old_page.tag_name().await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "clicking {css} on {} loaded no new page",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.find("main").await;
    }

    /// The visible text of the page's main part.
    pub(crate) async fn main_text(&self) -> String {
        self.find("main").await.text().await.expect("text")
    }

    /// Reloads until the main text satisfies `done`, or fails with what it said.
    pub(crate) async fn await_text(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let text = self.main_text().await;
            if done(&text) {
                return text;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: the page never showed it; last:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
            self.client.refresh().await.expect("reload");
        }
    }

    /// Saves a screenshot as `<name>.png` for review.
    pub(crate) async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("save the screenshot");
    }

    /// Signs in with `key` and lands on the console's first page.
    pub(crate) async fn sign_in(&self, key: &str) {
        self.go("/console/login").await;
        self.fill("#key", key).await;
        self.follow("main button[type=submit]").await;
        self.find("header.top").await;
    }

    /// Closes the browser.
    pub(crate) async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}
