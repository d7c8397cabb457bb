//! `orch-loadgen`: a closed-loop HTTP load generator for `POST /events`
//! (each event with a unique id), for look-ups (`GET <url>/<id>` of ids read
//! from a file), for a GraphQL target's `createItem` directly, or for the
//! end-to-end latency (events sent, a sample of them followed through the
//! query service until delivered). Each of `--connections` workers sends one
//! request, waits for the answer, and sends the next (at most `--rate` per
//! second in all, if set), for `--duration` seconds after a warm-up. Prints
//! one JSON object with the figures.

mod follow;
mod rss;

use clap::builder::TypedValueParser as _;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

/// What the workers send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    /// `POST <url>` with a new event each time; success is 202.
    Post,
    /// `GET <url>/<id>` with ids from `--ids-file`; success is 200.
    Lookup,
    /// `POST <url>` with a `createItem` mutation of a new id; success is 200.
    Graphql,
    /// As `post`, and one event in `--sample-every` is followed with
    /// `GET <lookup-url>/<id>` until it shows as delivered.
    Latency,
}

/// Drive POST /events or look-ups and report sustained throughput and latency.
#[derive(Debug, Parser)]
#[command(version = orch_telemetry::long_version())]
struct Args {
    /// What to send.
    #[arg(long, value_enum, default_value = "post")]
    mode: Mode,
    /// Ids to look up, one per line (for `--mode lookup`), taken in turn.
    #[arg(long, required_if_eq("mode", "lookup"))]
    ids_file: Option<std::path::PathBuf>,
    /// Most requests per second, over all connections; 0 for as many as answered.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// The events endpoint (for look-ups, the prefix the id is appended to).
    #[arg(long, default_value = "http://127.0.0.1:8080/events")]
    url: String,
    /// Key sent as a bearer token (the source key, or the reader key for look-ups).
    #[arg(long, env = "LOADGEN_KEY", default_value = "dev-source-key", value_parser = clap::builder::NonEmptyStringValueParser::new().map(SecretString::from))]
    key: SecretString,
    /// Concurrent connections (one request in flight each).
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Send exactly this many requests, all measured, as fast as the
    /// connections go (a burst), instead of for `--duration` after a warm-up.
    #[arg(long, conflicts_with_all = ["duration", "warmup", "rate"])]
    events: Option<u64>,
    /// Unmeasured seconds first.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// Bytes of `body` text in each event.
    #[arg(long, default_value_t = 100)]
    body_bytes: usize,
    /// Prefix of the generated ids (make it unique per run).
    #[arg(long, default_value = "bench")]
    id_prefix: String,
    /// Pid of the server, to sample its resident memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Latency mode: where events are looked up (`GET <lookup-url>/<id>`).
    #[arg(long, required_if_eq("mode", "latency"))]
    lookup_url: Option<String>,
    /// Latency mode: the reader key for the look-ups.
    #[arg(long, env = "LOADGEN_LOOKUP_KEY", default_value = "dev-reader-key", value_parser = clap::builder::NonEmptyStringValueParser::new().map(SecretString::from))]
    lookup_key: SecretString,
    /// Latency mode: follow one event in this many.
    #[arg(long, default_value_t = 20)]
    sample_every: u64,
}

/// What one worker measured.
struct Tally {
    latency_us: Histogram<u64>,
    ok: u64,
    errors: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.connections)
        .build_http();
    let uri: hyper::Uri = args.url.parse().context("--url is not a URI")?;
    let auth = format!("Bearer {}", args.key.expose_secret());
    let body_text = "x".repeat(args.body_bytes);
    let ids: Arc<Vec<String>> = Arc::new(match &args.ids_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("could not read {}", path.display()))?
            .lines()
            .map(str::to_owned)
            .filter(|id| !id.is_empty())
            .collect(),
        None => Vec::new(),
    });
    anyhow::ensure!(
        args.mode != Mode::Lookup || !ids.is_empty(),
        "--ids-file holds no ids to look up"
    );
    // Each worker's share of the rate, as the gap between its sends.
    let gap = (args.rate > 0)
        .then(|| Duration::from_secs_f64(args.connections as f64 / args.rate as f64));
    let mode = args.mode;
    // A burst is measured from its first request; the budget is what is left to send.
    let measuring = Arc::new(AtomicBool::new(args.events.is_some()));
    let stopping = Arc::new(AtomicBool::new(false));
    let budget = args.events.map(|events| Arc::new(AtomicU64::new(events)));
    let burst_sampler = budget
        .as_ref()
        .and(args.server_pid)
        .map(rss::Sampler::start);
    let burst_started = Instant::now();

    let follow = match (mode, &args.lookup_url) {
        (Mode::Latency, Some(url)) => Some(follow::Follow::new(
            url.parse().context("--lookup-url is not a URI")?,
            format!("Bearer {}", args.lookup_key.expose_secret()),
            args.sample_every.max(1),
        )),
        _ => None,
    };
    let mut workers = Vec::new();
    let connections = args.connections;
    for worker in 0..args.connections {
        let (client, uri, auth, body_text) =
            (client.clone(), uri.clone(), auth.clone(), body_text.clone());
        let (measuring, stopping) = (measuring.clone(), stopping.clone());
        let prefix = args.id_prefix.clone();
        let ids = ids.clone();
        let follow = follow.clone();
        let budget = budget.clone();
        workers.push(tokio::spawn(async move {
            let mut pace = gap.map(|gap| {
                let mut pace = tokio::time::interval(gap);
                pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                pace
            });
            let mut tally = Tally {
                latency_us: Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds"),
                ok: 0,
                errors: 0,
            };
            let mut i = 0u64;
            while !stopping.load(Ordering::Relaxed) {
                if let Some(budget) = &budget
                    && budget
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                            left.checked_sub(1)
                        })
                        .is_err()
                {
                    break;
                }
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                i += 1;
                let id = format!("{prefix}-{worker}-{i}");
                let post = |body: serde_json::Value| {
                    hyper::Request::post(uri.clone())
                        .header("authorization", auth.as_str())
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(body.to_string())))
                        .expect("valid request")
                };
                let (request, success) = match mode {
                    Mode::Post | Mode::Latency => (
                        post(json!({
                            "id": id,
                            "name": "bench event",
                            "body": body_text,
                            "timestamp": 1_795_255_200,
                        })),
                        hyper::StatusCode::ACCEPTED,
                    ),
                    Mode::Graphql => (
                        post(json!({
                            "query": "mutation($id: ID!, $body: String!) { createItem(id: $id, name: \"bench event\", body: $body, timestamp: 1795255200, brand: \"bench\") { id } }",
                            "variables": { "id": id, "body": body_text },
                        })),
                        hyper::StatusCode::OK,
                    ),
                    Mode::Lookup => {
                        // Workers start spread over the ids and walk them in turn.
                        let at = (worker * ids.len() / connections + i as usize) % ids.len();
                        let request = hyper::Request::get(format!("{uri}/{}", ids[at]))
                            .header("authorization", auth.as_str())
                            .body(Full::new(Bytes::new()))
                            .expect("valid request");
                        (request, hyper::StatusCode::OK)
                    }
                };
                let started = Instant::now();
                let answer = client.request(request).await;
                let accepted = match answer {
                    Ok(response) => {
                        let status = response.status();
                        let _ = response.into_body().collect().await;
                        status == success
                    }
                    Err(_) => false,
                };
                if let Some(follow) = &follow
                    && accepted
                    && measuring.load(Ordering::Relaxed)
                    && i.is_multiple_of(follow.every)
                {
                    follow.track(&client, id, started);
                }
                if measuring.load(Ordering::Relaxed) {
                    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                    tally.latency_us.saturating_record(micros.max(1));
                    if accepted {
                        tally.ok += 1;
                    } else {
                        tally.errors += 1;
                    }
                }
            }
            tally
        }));
    }

    // `measured`: the seconds measured (and the server's use in them), known
    // at once for a timed run, and for a burst when its last worker has its answer.
    let (mut memory, mut measured) = (None, None::<f64>);
    if budget.is_none() {
        tokio::time::sleep(Duration::from_secs(args.warmup)).await;
        let sampler = args.server_pid.map(rss::Sampler::start);
        measuring.store(true, Ordering::Relaxed);
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(args.duration)).await;
        measuring.store(false, Ordering::Relaxed);
        measured = Some(started.elapsed().as_secs_f64());
        memory = sampler.map(rss::Sampler::stop);
        stopping.store(true, Ordering::Relaxed);
    }

    let mut latency =
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds");
    let (mut ok, mut errors) = (0, 0);
    for worker in workers {
        let tally = worker.await.context("a worker panicked")?;
        latency
            .add(&tally.latency_us)
            .context("merging histograms")?;
        ok += tally.ok;
        errors += tally.errors;
    }
    let elapsed = measured.unwrap_or_else(|| burst_started.elapsed().as_secs_f64());
    if let Some(sampler) = burst_sampler {
        memory = Some(sampler.stop());
    }
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    let delivered = match follow {
        Some(follow) => Some(follow.finish(Duration::from_secs(60)).await),
        None => None,
    };
    let report = json!({
        "connections": args.connections,
        "duration_s": elapsed,
        "accepted": ok,
        "errors": errors,
        "mode": format!("{mode:?}").to_lowercase(),
        "events_per_s": ok as f64 / elapsed,
        "latency_ms": {
            "p50": ms(0.50),
            "p99": ms(0.99),
            "p99_9": ms(0.999),
            "max": latency.max() as f64 / 1000.0,
        },
        "server_rss_mb": memory.as_ref().map(|m| json!({ "max_sampled": m.max_rss_mb, "peak_hwm": m.hwm_mb })),
        "server_cpu_s": memory.as_ref().and_then(|m| m.cpu_s),
        "server_cpu_us_per_event": memory
            .as_ref()
            .and_then(|m| m.cpu_s)
            .filter(|_| ok > 0)
            .map(|cpu| cpu * 1e6 / ok as f64),
        "accepted_to_delivered_ms": delivered,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
