//! Slow and silent clients cannot take the port from real ones.

use std::net::SocketAddr;
use std::time::Duration;

use orch_testkit::siege::{Siege, besiege};

use crate::support::{Process, SOURCE_KEY, event};
use orch_testkit::scratch_dir;

/// The service's open-file limit in this test; the silent connections try
/// to use every one of them.
const OPEN_FILES: u32 = 2_048;
/// The resident memory the service may reach under the siege.
const RSS_CEILING_KIB: u64 = 160 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_dripping_clients_never_keep_real_events_from_a_quick_202() {
    let scratch = scratch_dir("slow-clients");
    let port = orch_testkit::free_port();
    let service = Process::start_with_open_files(
        OPEN_FILES,
        &orch_testkit::bootstrap(),
        &orch_testkit::unique_prefix(),
        &scratch.join("spool"),
        port,
        &scratch.join("command.log"),
    )
    .await;
    let body = serde_json::to_vec(&event("dripped")).unwrap();
    let siege = Siege {
        silent: OPEN_FILES as usize,
        drippers: 200,
        head: format!(
            "POST /events HTTP/1.1\r\nHost: command\r\nAuthorization: Bearer {SOURCE_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        ),
        drip: body,
        drip_every: Duration::from_millis(500),
        real_per_second: 20,
        real_for: Duration::from_secs(10),
        cut_off_within: Duration::from_secs(15),
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let url = service.url.clone();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let report = besiege(addr, service.pid(), siege, |n| {
        let request = http
            .post(format!("{url}/events"))
            .bearer_auth(SOURCE_KEY)
            .json(&event(&format!("real-{n}")));
        async move { request.send().await.ok().map(|r| r.status().as_u16()) }
    })
    .await;
    report.assert_withstood("command", OPEN_FILES, 202, RSS_CEILING_KIB);
}
