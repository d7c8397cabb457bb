use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orch_testkit::Broker;
use rdkafka::Message;
use tokio_util::sync::CancellationToken;

use crate::support::{Process, SOURCE_KEY, event};
use orch_testkit::scratch_dir;

/// The source's deadline for a 2xx.
const PROMISE: Duration = Duration::from_millis(500);
const OUTAGE: Duration = Duration::from_secs(30);

/// One request the load generator made.
#[derive(Debug)]
struct Sent {
    id: String,
    /// The HTTP status, or None when no answer came (connection refused while
    /// the service was down, or nothing within 2 s).
    status: Option<u16>,
    latency: Duration,
    /// When it was sent, from the start of the test.
    at: Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_30_s_broker_outage_and_a_crash_lose_no_accepted_event_and_every_answer_beats_500_ms() {
    let broker = Arc::new(tokio::task::spawn_blocking(Broker::start).await.unwrap());
    let bootstrap = broker.bootstrap();
    let prefix = orch_testkit::unique_prefix();
    let scratch = scratch_dir("outage");
    let (spool, log) = (scratch.join("spool"), scratch.join("command.log"));
    let port = orch_testkit::free_port();
    let mut process = Process::start(&bootstrap, &prefix, &spool, port, &log).await;

    let test_start = Instant::now();
    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
    let stop = CancellationToken::new();
    let senders: Vec<_> = (0..4)
        .map(|worker| {
            let ids = format!("{prefix}{worker}-");
            tokio::spawn(send_until(
                format!("{}/events", process.url),
                ids,
                test_start,
                sent.clone(),
                stop.clone(),
            ))
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(2)).await;
    let stopping = broker.clone();
    tokio::task::spawn_blocking(move || stopping.stop())
        .await
        .unwrap();
    let outage_started = Instant::now();
    eprintln!("outage test: broker stopped at {:?}", test_start.elapsed());
    tokio::time::sleep(Duration::from_secs(10)).await;
    // A crash in the middle of the outage: what the spool holds must survive
    // it. The fault fired only if the spool does hold events now.
    let ready: serde_json::Value = reqwest::get(format!("{}/ready", process.url))
        .await
        .expect("the command service answers /ready")
        .json()
        .await
        .expect("/ready is JSON");
    let held_at_kill = ready["spool"]["depth"].as_u64().unwrap_or(0);
    eprintln!("outage test: the spool holds {held_at_kill} events at the kill");
    assert!(
        held_at_kill > 0,
        "the spool held nothing at the kill: {ready}"
    );
    assert_eq!(ready["kafka"], "unreachable", "{ready}");
    let outage_seen_at = test_start.elapsed();
    process.kill();
    eprintln!(
        "outage test: command service killed at {:?}",
        test_start.elapsed()
    );
    process = Process::start(&bootstrap, &prefix, &spool, port, &log).await;
    eprintln!(
        "outage test: command service back at {:?}",
        test_start.elapsed()
    );
    tokio::time::sleep(OUTAGE.saturating_sub(outage_started.elapsed())).await;
    let starting = broker.clone();
    tokio::task::spawn_blocking(move || starting.up())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.cancel();
    for sender in senders {
        sender.await.unwrap();
    }

    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let answered: Vec<&Sent> = sent.iter().filter(|s| s.status.is_some()).collect();
    let accepted: HashSet<&str> = sent
        .iter()
        .filter(|s| s.status == Some(202))
        .map(|s| s.id.as_str())
        .collect();
    let slowest = answered.iter().map(|s| s.latency).max().unwrap_or_default();
    eprintln!(
        "outage test: {} requests, {} answered ({} unanswered while the service restarted), {} accepted, slowest answer {slowest:?}",
        sent.len(),
        answered.len(),
        sent.len() - answered.len(),
        accepted.len(),
    );
    assert!(
        accepted.len() > 100,
        "enough events were sent to mean something"
    );
    let late: Vec<(Duration, Duration)> = answered
        .iter()
        .filter(|s| s.latency >= PROMISE)
        .map(|s| (s.at, s.latency))
        .collect();
    assert!(
        late.is_empty(),
        "answers took 500 ms or more, as (sent at, took): {late:?}"
    );
    assert!(
        late.is_empty(),
        "{} answers took 500 ms or more: {:?}",
        late.len(),
        late
    );
    // A 503 is allowed (the disk can stall past the deadline); it is an honest
    // "not accepted". Anything else is a bug.
    let unexpected: Vec<_> = answered
        .iter()
        .filter(|s| !matches!(s.status, Some(202 | 503)))
        .collect();
    assert!(
        unexpected.is_empty(),
        "only 202 or 503, got {:?}",
        unexpected.first()
    );
    // Kafka was down from the stop until the kill: every 202 in that stretch
    // came from the spool.
    let outage_began = outage_started.duration_since(test_start);
    let spooled_202s = answered
        .iter()
        .filter(|s| s.status == Some(202) && s.at > outage_began && s.at < outage_seen_at)
        .count();
    eprintln!("outage test: {spooled_202s} answered 202 from the spool while Kafka was down");
    assert!(
        spooled_202s > 0,
        "no event was accepted into the spool during the outage"
    );
    let refused = answered.iter().filter(|s| s.status == Some(503)).count();
    eprintln!("outage test: {refused} answered 503 (not durable within the deadline)");

    // After the broker is back, every accepted id reaches events.raw.
    let topic = orch_kafka::KafkaConfig::local(&bootstrap, &prefix)
        .topics()
        .raw;
    let mut seen = HashSet::new();
    let records = orch_testkit::read_topic(&bootstrap, &topic, Duration::from_secs(120), |read| {
        if let Some(last) = read.last() {
            seen.insert(String::from_utf8_lossy(last.key().unwrap_or_default()).into_owned());
        }
        accepted.iter().all(|id| seen.contains(*id))
    })
    .await;
    eprintln!(
        "outage test: all {} accepted events are in events.raw ({} records, {} duplicates)",
        accepted.len(),
        records.len(),
        records.len() - seen.len()
    );
    assert!(
        seen.iter().all(|id| id.starts_with(&prefix)),
        "nothing the test did not send"
    );
    drop(process);
    drop(broker);
    let _ = std::fs::remove_dir_all(scratch);
}

/// Posts events one after another until `stop`, recording every answer.
async fn send_until(
    url: String,
    ids: String,
    test_start: Instant,
    sent: Arc<Mutex<Vec<Sent>>>,
    stop: CancellationToken,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut i = 0;
    while !stop.is_cancelled() {
        i += 1;
        let id = format!("{ids}{i}");
        let started = Instant::now();
        let answer = http
            .post(&url)
            .bearer_auth(SOURCE_KEY)
            .json(&event(&id))
            .send()
            .await;
        let latency = started.elapsed();
        let status = answer.ok().map(|response| response.status().as_u16());
        let at = started - test_start;
        sent.lock().unwrap().push(Sent {
            id,
            status,
            latency,
            at,
        });
        // About 50 events/s per sender; a little longer while the service restarts.
        let pause = if status.is_some() { 20 } else { 100 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
}
