//! Slow and silent clients cannot take the query service's port from
//! support's look-ups. The service runs as a process of its own, with a
//! known open-file limit, against the real database and broker.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use orch_testkit::siege::{Siege, besiege};

const READER_KEY: &str = "test-reader-key";
/// The service's open-file limit in this test; the silent connections try
/// to use every one of them.
const OPEN_FILES: u32 = 2_048;
/// The resident memory the service may reach under the siege.
const RSS_CEILING_KIB: u64 = 160 * 1024;

/// The child, killed when the test ends however it ends.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_dripping_clients_never_keep_look_ups_from_a_quick_answer() {
    let prefix = orch_testkit::unique_prefix();
    let database_url = orch_testkit::create_database(&prefix).await;
    let port = orch_testkit::free_port();
    let log = std::env::temp_dir().join(format!(
        "orch-slow-clients-{}.log",
        prefix.trim_end_matches('.')
    ));
    let log_file = std::fs::File::create(&log).unwrap();
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {OPEN_FILES} && exec \"$0\""))
        .arg(env!("CARGO_BIN_EXE_orch-query"))
        .env("QUERY_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("QUERY_READER_KEY_HASHES", orch_http::hash_key(READER_KEY))
        .env("DATABASE_URL", &database_url)
        .env("KAFKA_BOOTSTRAP_SERVERS", orch_testkit::bootstrap())
        .env("KAFKA_TOPIC_PREFIX", &prefix)
        .env("LOG_FORMAT", "text")
        .env("RUST_LOG", "info,rdkafka=warn")
        .stdout(Stdio::from(log_file.try_clone().unwrap()))
        .stderr(Stdio::from(log_file))
        .spawn()
        .expect("start orch-query");
    let service = Service(child);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let deadline = tokio::time::Instant::now() + orch_testkit::PATIENCE;
    while !http
        .get(format!("{url}/ready"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "orch-query did not become ready; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let siege = Siege {
        silent: OPEN_FILES as usize,
        drippers: 200,
        // The query service reads no request bodies: these drip their headers.
        head: "GET /events/dripped HTTP/1.1\r\nHost: query\r\n".into(),
        drip: b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n".to_vec(),
        drip_every: Duration::from_millis(500),
        real_per_second: 20,
        real_for: Duration::from_secs(10),
        cut_off_within: Duration::from_secs(15),
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let report = besiege(addr, service.0.id(), siege, |n| {
        let request = http
            .get(format!("{url}/events/real-{n}"))
            .bearer_auth(READER_KEY);
        async move { request.send().await.ok().map(|r| r.status().as_u16()) }
    })
    .await;
    // Nothing was projected: every look-up is an honest 404.
    report.assert_withstood("query", OPEN_FILES, 404, RSS_CEILING_KIB);
}
