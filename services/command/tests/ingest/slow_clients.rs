//! Slow and silent clients cannot take the port from real ones.

use std::net::SocketAddr;
use std::time::Duration;

use orch_testkit::siege::{Siege, besiege};

use crate::support::{Process, SOURCE_KEY, event, scratch_dir};

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
    eprintln!(
        "slow clients (command): {} silent connected, all cut after {:?}, {} drippers cut and back, {} real, slowest {:?}, RSS {} -> peak {} KiB",
        report.silent_connected,
        report.silent_cut_after,
        report.drippers_cut,
        report.real.len(),
        report.real_slowest(),
        report.rss_before_kib,
        report.rss_peak_kib,
    );
    // The fault fired: the silent connections took all the room the server
    // gives clients (its open-file limit less 256 kept for itself; a few
    // slots may still be held by the start-up health checks).
    assert!(
        report.silent_connected as u32 >= OPEN_FILES - 256 - 16,
        "only {} silent connections got through",
        report.silent_connected
    );
    assert_eq!(
        report.silent_left_open, 0,
        "silent connections outlived 15 s"
    );
    assert!(
        report.drippers_cut > 0,
        "the drippers were cut off and came back"
    );
    assert_eq!(
        report.real_answered(202, Duration::from_millis(500)),
        report.real.len(),
        "every real event answered 202 in < 500 ms: {:?}",
        report.real
    );
    assert!(
        report.rss_peak_kib <= RSS_CEILING_KIB,
        "RSS peaked at {} KiB",
        report.rss_peak_kib
    );
}
