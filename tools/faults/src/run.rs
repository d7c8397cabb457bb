//! One run: start a fresh stack, drive the load through the schedule's
//! faults, let it drain, look at everything, and judge.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use tokio::sync::{Mutex, watch};
use tokio::time::{Instant, sleep};

use crate::cli::Args;
use crate::inject::{self, Done};
use crate::load;
use crate::oracle::{Answer, Oracle};
use crate::platform::Platform;
use crate::readmodel;
use crate::sampler;
use crate::schedule::{DuplicateWindows, Fault, Profile, Schedule};
use crate::spool_watch::{self, OutageSpool};
use crate::stack::{IN_FLIGHT_PER_PARTITION, Stack};
use crate::statuslog;
use crate::verdict::{self, Evidence, Item, Verdict};

/// How long the pipeline may take to drain after the last fault.
const DRAIN_DEADLINE: Duration = Duration::from_secs(300);
/// How long a fresh event may take to be delivered once all is quiet.
const FRESH_DEADLINE: Duration = Duration::from_secs(60);

/// Everything one run did and found.
#[derive(Debug, Serialize)]
pub(crate) struct RunReport {
    pub(crate) seed: u64,
    pub(crate) profile: Profile,
    pub(crate) schedule: Schedule,
    pub(crate) faults: Vec<Done>,
    /// Events offered per second.
    pub(crate) offered_per_s: f64,
    /// From the start of the load until the last fault or event ended.
    pub(crate) faulted_s: f64,
    /// From then until every service said it was ready.
    pub(crate) ready_after_s: f64,
    /// From then until every taken event was at its end in Postgres.
    pub(crate) drained_after_s: f64,
    /// A fresh event sent after the drain: accepted → delivered, in seconds.
    pub(crate) fresh_delivered_s: Option<f64>,
    /// Looks the status sampler took.
    pub(crate) status_looks: u32,
    /// Secrets found in a service's log ("source key in command.log").
    pub(crate) secrets_in_logs: Vec<String>,
    /// Slow clients kept up against the command service during the load.
    pub(crate) slow_clients: orch_testkit::siege::Harassed,
    /// Whether the spool's directory was a small tmpfs the disk fault fills.
    pub(crate) spool_on_tmpfs: bool,
    /// The spool in each long broker outage: it must have held events.
    pub(crate) spool_in_outages: Vec<OutageSpool>,
    /// The spool's depth after the drain: 0 when everything was forwarded.
    pub(crate) spool_depth_after: Option<u64>,
    /// Status records checked against the read model and its history.
    pub(crate) status_records_checked: usize,
    /// Status records whose step is missing from the stored history.
    pub(crate) missing_history: Vec<String>,
    /// Repeated deliveries, by the kind of fault that last began before each.
    pub(crate) duplicates_by_fault: std::collections::BTreeMap<String, u64>,
    pub(crate) verdict: Verdict,
    pub(crate) work_dir: PathBuf,
}

impl RunReport {
    /// Whether the run upheld every invariant.
    pub(crate) fn passed(&self) -> bool {
        self.verdict.passed()
            && self.fresh_delivered_s.is_some()
            && self.secrets_in_logs.is_empty()
            && self.missing_history.is_empty()
            && self.spool_proven()
    }

    /// Every long outage went through the spool, every fill filled the disk,
    /// and the spool was empty at the end.
    pub(crate) fn spool_proven(&self) -> bool {
        self.spool_in_outages.iter().all(|o| o.max_depth > 0)
            && self.spool_depth_after == Some(0)
            && self
                .faults
                .iter()
                .filter(|done| done.fault == Fault::FillSpoolDisk)
                .all(|done| {
                    done.seen.disk_filled == Some(true) && done.seen.drained_full == Some(true)
                })
    }
}

/// The spool's directory on a small tmpfs, so a broker outage can fill its
/// disk; unmounted when dropped. `None` where mounting is not allowed.
struct SpoolDisk(PathBuf);

impl SpoolDisk {
    fn mount(dir: &std::path::Path, bytes: u64) -> Option<Self> {
        std::fs::create_dir_all(dir).ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}")])
            .arg("orch-faults-spool")
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        mounted.then(|| Self(dir.to_owned()))
    }
}

impl Drop for SpoolDisk {
    fn drop(&mut self) {
        // Lazy: a service killed on an error path may still hold it a moment.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Runs seed `seed` against `platform`.
pub(crate) async fn run(args: &Args, platform: &Platform, seed: u64) -> anyhow::Result<RunReport> {
    let dir = args.work_dir.join(format!("run-{seed}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let oracle = Oracle::new(seed, args.events);
    // Small enough that an outage fills it in seconds at the run's rate.
    let disk_bytes = match args.profile {
        Profile::Long => 512 * 1024,
        Profile::Short => 160 * 1024,
    };
    let spool_disk = SpoolDisk::mount(&dir.join("spool"), disk_bytes);
    if spool_disk.is_none() {
        eprintln!(
            "  could not mount a tmpfs for the spool (not root?): no disk-full fault this run"
        );
    }
    let schedule = Schedule::random(seed, args.profile, spool_disk.is_some());
    let database_url = platform.create_database(&format!("faults_{seed}")).await?;
    let mut stack = Stack::new(
        &args.bin_dir,
        &dir,
        platform,
        &database_url,
        seed,
        args.partitions,
        &oracle.poison_prefix,
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()?;
    stack.start(&http).await?;
    wait_for("every service ready", Duration::from_secs(60), || {
        stack.ready(&http)
    })
    .await?;

    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(2))
        .connect(&database_url)
        .await?;
    let (stop_sampling, stopped) = watch::channel(false);
    let sampler = tokio::spawn(sampler::watch(
        pool.clone(),
        Duration::from_millis(1_000),
        stopped,
    ));

    let urls = Urls::of(&stack);
    let command_url = stack.command.base_url.clone();
    let keys = stack.keys.clone();
    let brand = stack.brand.clone();
    let target_admin = stack.target_admin();
    let stack = Arc::new(Mutex::new(stack));
    let spread = schedule.expected_duration();
    let start = Instant::now();
    let began = time::OffsetDateTime::now_utc();
    let (stop_watching, watching) = watch::channel(false);
    let spool_watch = tokio::spawn(spool_watch::watch(
        http.clone(),
        command_url.clone(),
        start,
        watching,
    ));
    let command_addr: std::net::SocketAddr = command_url
        .trim_start_matches("http://")
        .parse()
        .context("the command service's address")?;
    let harassment = orch_testkit::siege::Harassment::start(
        command_addr,
        200,
        50,
        format!(
            "POST /events HTTP/1.1\r\nHost: command\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n",
            keys.source
        ),
        b"{\"id\": \"slow-client\"".to_vec(),
        Duration::from_millis(500),
    );
    let lane = |steps| {
        tokio::spawn(inject::run_lane(
            steps,
            stack.clone(),
            target_admin.clone(),
            platform.clone(),
            http.clone(),
            start,
        ))
    };
    let lanes = [
        lane(schedule.processes.clone()),
        lane(schedule.target.clone()),
    ];
    eprintln!(
        "  {} events over {:.0} s ({:.0}/s), {} faults",
        oracle.events.len(),
        spread.as_secs_f64(),
        oracle.events.len() as f64 / spread.as_secs_f64(),
        schedule.steps().count()
    );
    let answers = load::send_all(&http, &urls.events, &keys.source, &oracle, spread).await;
    let slow_clients = harassment.stop().await;
    let mut faults = Vec::new();
    for lane in lanes {
        faults.extend(lane.await.context("a fault lane panicked")??);
    }
    faults.sort_by(|a, b| a.began_s.total_cmp(&b.began_s));
    let faulted_s = start.elapsed().as_secs_f64();
    let quiet = Instant::now();

    let mut stack = Arc::try_unwrap(stack)
        .map_err(|_| anyhow::anyhow!("a fault lane still holds the stack"))?
        .into_inner();
    wait_for(
        "every service ready again",
        Duration::from_secs(120),
        || stack.ready(&http),
    )
    .await?;
    let ready_after_s = quiet.elapsed().as_secs_f64();
    let taken: Vec<&str> = oracle
        .events
        .iter()
        .zip(&answers)
        .filter(|(_, a)| **a == Answer::Accepted)
        .map(|(e, _)| e.id.as_str())
        .collect();
    let drained = wait_for("the pipeline to drain", DRAIN_DEADLINE, || {
        drained(&pool, &taken)
    })
    .await;
    let drained_after_s = quiet.elapsed().as_secs_f64();
    if let Err(error) = &drained {
        eprintln!("  {error:#}; judging what is there");
    }

    let fresh_delivered_s = fresh_event(&http, &urls, &keys.source, &keys.reader, &oracle).await;
    let _ = stop_sampling.send(true);
    let _ = stop_watching.send(true);
    let samples = sampler.await.context("the status sampler panicked")?;
    let looks = spool_watch.await.context("the spool watcher panicked")?;
    let spool_depth_after = inject::spool_state(&http, &command_url)
        .await
        .and_then(|(depth, _)| depth);
    let rows = readmodel::rows(&pool)
        .await
        .context("read the events table")?;
    let history = statuslog::history(&pool)
        .await
        .context("read the event_history table")?;
    let status_topic = orch_contracts::Topics::with_prefix(&format!("faults-{seed}.")).status;
    let records = statuslog::read(&platform.bootstrap(), &status_topic)
        .await
        .context("read the status topic to check every record")?;
    let log_check = statuslog::check(&records, &rows, &history, &faults, began);
    let items = target_items(&http, &urls.graphql, &keys.target_token).await?;
    let duplicates = target_duplicates(&http, &urls.stats).await?;
    stack.stop().await;
    pool.close().await;

    let offered_per_s = oracle.events.len() as f64 / spread.as_secs_f64();
    let windows = DuplicateWindows {
        dispatcher: u64::from(IN_FLIGHT_PER_PARTITION) * u64::from(args.partitions),
        command: offered_per_s.ceil().max(1.0) as u64,
    };
    let duplicate_bound = faults
        .iter()
        .map(|done| done.fault.duplicate_bound(windows))
        .sum();
    let mut backwards = samples.backwards;
    backwards.extend(log_check.behind);
    let verdict = verdict::judge(Evidence {
        oracle: &oracle,
        answers: &answers,
        rows: &rows,
        items: &items,
        brand: &brand,
        backwards,
        duplicates,
        duplicate_bound,
    });
    let spool_on_tmpfs = spool_disk.is_some();
    drop(spool_disk);
    Ok(RunReport {
        seed,
        profile: args.profile,
        offered_per_s,
        spool_in_outages: spool_watch::per_outage(&looks, &faults),
        schedule,
        faults,
        faulted_s,
        ready_after_s,
        drained_after_s,
        fresh_delivered_s,
        status_looks: samples.looks,
        secrets_in_logs: secrets_in_logs(&dir, &keys.all())?,
        slow_clients,
        spool_on_tmpfs,
        spool_depth_after,
        status_records_checked: log_check.records,
        missing_history: log_check.missing_history,
        duplicates_by_fault: log_check.duplicates_by_fault,
        verdict,
        work_dir: dir,
    })
}

/// The URLs a run reads after the faults.
#[derive(Debug)]
struct Urls {
    events: String,
    lookup: String,
    graphql: String,
    stats: String,
}

impl Urls {
    fn of(stack: &Stack) -> Self {
        Self {
            events: format!("{}/events", stack.command.base_url),
            lookup: format!("{}/events", stack.query.base_url),
            graphql: format!("{}/graphql", stack.target.base_url),
            stats: format!("{}/stats", stack.target.base_url),
        }
    }
}

/// Polls `check` every 500 ms until it holds or `deadline` passes.
async fn wait_for<F, Fut>(what: &str, deadline: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let until = Instant::now() + deadline;
    while !check().await {
        if Instant::now() > until {
            bail!("gave up waiting for {what} after {} s", deadline.as_secs());
        }
        sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// Whether every accepted event, and every other event in the read model, is at an end.
async fn drained(pool: &sqlx::PgPool, taken: &[&str]) -> bool {
    match readmodel::rows(pool).await {
        Ok(rows) => {
            rows.values().all(|row| row.is_final()) && taken.iter().all(|id| rows.contains_key(*id))
        }
        Err(_) => false,
    }
}

/// Sends the oracle's fresh event and returns how long it took to show as delivered.
async fn fresh_event(
    http: &reqwest::Client,
    urls: &Urls,
    source_key: &str,
    reader_key: &str,
    oracle: &Oracle,
) -> Option<f64> {
    let sent = Instant::now();
    if load::send_one(http, &urls.events, source_key, &oracle.fresh).await != Answer::Accepted {
        eprintln!("  the fresh event was not accepted");
        return None;
    }
    let url = format!("{}/{}", urls.lookup, oracle.fresh.id);
    while sent.elapsed() < FRESH_DEADLINE {
        let status = async {
            let body: Value = http
                .get(&url)
                .bearer_auth(reader_key)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            body.get("status")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        if status.await.as_deref() == Some("delivered") {
            return Some(sent.elapsed().as_secs_f64());
        }
        sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Every item the target holds, by id.
async fn target_items(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> anyhow::Result<HashMap<String, Item>> {
    let response: Value = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": "{ getItems { id name body timestamp brand } }" }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let items: Vec<Item> = serde_json::from_value(response["data"]["getItems"].clone())
        .with_context(|| format!("the target's getItems answer: {response}"))?;
    Ok(items
        .into_iter()
        .map(|item| (item.id.clone(), item))
        .collect())
}

/// The target's count of `createItem` calls for ids it already held.
async fn target_duplicates(http: &reqwest::Client, url: &str) -> anyhow::Result<u64> {
    let stats: Value = http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    stats["duplicates"]
        .as_u64()
        .context("the target's stats carry no duplicates count")
}

/// Which secret appears in which log of the run.
fn secrets_in_logs(dir: &std::path::Path, secrets: &[(&str, &str)]) -> anyhow::Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "log") {
            let text = std::fs::read_to_string(&path)?;
            for (name, secret) in secrets {
                if text.contains(secret) {
                    found.push(format!("{name} in {}", path.display()));
                }
            }
        }
    }
    Ok(found)
}
