//! Carries out a schedule's two lanes against a running stack.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::Mutex;
use tokio::time::{Instant, sleep};

use crate::platform::Platform;
use crate::schedule::{Fault, Service, Step};
use crate::stack::{Stack, TargetAdmin};

/// A fault as it happened.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Done {
    pub(crate) fault: Fault,
    /// Seconds after the run's start.
    pub(crate) began_s: f64,
    pub(crate) ended_s: f64,
    /// What the fault itself saw, proving it fired.
    #[serde(flatten)]
    pub(crate) seen: Seen,
}

/// Evidence a fault gathers while it runs.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub(crate) struct Seen {
    /// Events the command service's spool held just before it was killed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) spool_held_at_kill: Option<u64>,
    /// Whether the spool's disk filled (the spool reported unhealthy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) disk_filled: Option<bool>,
    /// Whether the spool then drained to 0 with its disk still full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) drained_full: Option<bool>,
}

/// The command service's spool as its `/ready` shows it: depth (when it
/// says) and health. `/ready` answers 503 problem+json, without the
/// details, when Kafka is unreachable and the spool cannot take events.
pub(crate) async fn spool_state(
    http: &reqwest::Client,
    command_url: &str,
) -> Option<(Option<u64>, bool)> {
    let response = http
        .get(format!("{command_url}/ready"))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .ok()?;
    if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
        return Some((None, false));
    }
    let ready: serde_json::Value = response.json().await.ok()?;
    let spool = &ready["spool"];
    Some((spool["depth"].as_u64(), spool["healthy"].as_bool()?))
}

/// Runs `steps` in order; each waits out its gap, then holds its fault.
pub(crate) async fn run_lane(
    steps: Vec<Step>,
    stack: Arc<Mutex<Stack>>,
    target: TargetAdmin,
    platform: Platform,
    http: reqwest::Client,
    start: Instant,
) -> anyhow::Result<Vec<Done>> {
    let mut done = Vec::with_capacity(steps.len());
    for step in steps {
        sleep(Duration::from_millis(step.gap_ms)).await;
        let began_s = start.elapsed().as_secs_f64();
        eprintln!("  {began_s:6.1}s  {:?} for {} ms", step.fault, step.hold_ms);
        let seen = inject(&step, &stack, &target, &platform, &http).await?;
        done.push(Done {
            fault: step.fault,
            began_s,
            ended_s: start.elapsed().as_secs_f64(),
            seen,
        });
    }
    Ok(done)
}

async fn inject(
    step: &Step,
    stack: &Mutex<Stack>,
    target: &TargetAdmin,
    platform: &Platform,
    http: &reqwest::Client,
) -> anyhow::Result<Seen> {
    let hold = Duration::from_millis(step.hold_ms);
    let mut seen = Seen::default();
    let command_url = stack.lock().await.command.base_url.clone();
    match &step.fault {
        Fault::Kill { service } => {
            stack.lock().await.process(*service).kill().await?;
            sleep(hold).await;
            stack.lock().await.process(*service).start(http).await?;
        }
        Fault::KillTwo { first, second } => {
            let mut stack = stack.lock().await;
            stack.process(*first).kill().await?;
            stack.process(*second).kill().await?;
            sleep(hold).await;
            stack.process(*first).start(http).await?;
            stack.process(*second).start(http).await?;
        }
        Fault::KillCommandDuringBrokerOutage => {
            platform.kill_broker().await?;
            sleep(hold / 3).await;
            seen.spool_held_at_kill = spool_state(http, &command_url)
                .await
                .and_then(|(depth, _)| depth);
            stack.lock().await.command.kill().await?;
            sleep(hold / 3).await;
            stack.lock().await.command.start(http).await?;
            sleep(hold / 3).await;
            platform.start_broker().await?;
        }
        Fault::KillDispatcherWhileTargetFails => {
            target.set(http, &json!({ "error_rate": 1.0 })).await?;
            sleep(hold / 2).await;
            stack.lock().await.dispatcher.kill().await?;
            sleep(Duration::from_millis(500)).await;
            stack.lock().await.dispatcher.start(http).await?;
            sleep(hold / 2).await;
            target.set(http, &json!({})).await?;
        }
        Fault::FillSpoolDisk => {
            let spool_dir = stack.lock().await.spool_dir.clone();
            platform.kill_broker().await?;
            // Another tenant takes all but 16 KiB of the disk, so the run's
            // own events fill the rest within seconds at any rate.
            let ballast = spool_dir.join("ballast");
            fill_disk(&ballast, 16 * 1024)?;
            let until = tokio::time::Instant::now() + hold;
            let mut filled = false;
            while !filled && tokio::time::Instant::now() < until {
                sleep(Duration::from_millis(250)).await;
                filled = spool_state(http, &command_url)
                    .await
                    .is_some_and(|(_, healthy)| !healthy);
            }
            seen.disk_filled = Some(filled);
            // A few seconds full: requests meanwhile must get an honest 503.
            sleep(Duration::from_secs(3)).await;
            platform.start_broker().await?;
            // The spool must drain with its disk still full (the cursor
            // moves in place), then the other tenant leaves.
            let until = tokio::time::Instant::now() + Duration::from_secs(60);
            let mut drained = false;
            while !drained && tokio::time::Instant::now() < until {
                sleep(Duration::from_millis(250)).await;
                drained = spool_state(http, &command_url)
                    .await
                    .is_some_and(|(depth, _)| depth == Some(0));
            }
            seen.drained_full = Some(drained);
            std::fs::remove_file(&ballast)?;
        }
        Fault::KillAll => {
            let mut stack = stack.lock().await;
            for service in [Service::Command, Service::Dispatcher, Service::Query] {
                stack.process(service).kill().await?;
            }
            sleep(hold).await;
            for service in [Service::Query, Service::Dispatcher, Service::Command] {
                stack.process(service).start(http).await?;
            }
        }
        Fault::PauseDispatcher => {
            stack.lock().await.dispatcher.pause()?;
            sleep(hold).await;
            stack.lock().await.dispatcher.resume()?;
        }
        Fault::CrashBroker => {
            platform.kill_broker().await?;
            sleep(hold).await;
            platform.start_broker().await?;
        }
        Fault::CrashPostgres => platform.crash_postgres(hold).await?,
        Fault::TargetErrors { share } => {
            hold_target(target, http, json!({ "error_rate": share }), hold).await?;
        }
        Fault::TargetRateLimited { share } => {
            hold_target(target, http, json!({ "rate_limited_rate": share }), hold).await?;
        }
        Fault::TargetSlow { min_ms, max_ms } => {
            let slow = json!({ "latency_min_ms": min_ms, "latency_max_ms": max_ms });
            hold_target(target, http, slow, hold).await?;
        }
        Fault::TargetTimeouts { share } => {
            let hangs = json!({ "timeout_rate": share, "timeout_ms": 3_000 });
            hold_target(target, http, hangs, hold).await?;
        }
        Fault::TargetRefuses { status } => {
            let until = now_ms().saturating_add(step.hold_ms);
            let refuses = json!({ "down_until_ms": until, "down_status": status });
            hold_target(target, http, refuses, hold).await?;
        }
        Fault::TargetHostile { answer, count } => {
            let answer: serde_json::Value = serde_json::from_str(answer)?;
            let hostile = json!({ "hostile": { "answer": answer, "count": count } });
            hold_target(target, http, hostile, hold).await?;
        }
    }
    Ok(seen)
}

/// Milliseconds since the Unix epoch, the sandbox's clock for down windows.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Puts `faults` in force at the target for `hold`, then clears them.
async fn hold_target(
    target: &TargetAdmin,
    http: &reqwest::Client,
    faults: serde_json::Value,
    hold: Duration,
) -> anyhow::Result<()> {
    target.set(http, &faults).await?;
    sleep(hold).await;
    target.set(http, &json!({})).await
}

/// Writes `path` until the filesystem holding it has `leave` bytes free.
fn fill_disk(path: &std::path::Path, leave: u64) -> anyhow::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(path);
    let stat = rustix::fs::statvfs(dir)?;
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    let mut remaining = free.saturating_sub(leave);
    let mut file = std::fs::File::create(path)?;
    let chunk = vec![0u8; 64 * 1024];
    while remaining > 0 {
        let n = remaining.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n])?;
        remaining -= n as u64;
    }
    file.sync_all()?;
    Ok(())
}
