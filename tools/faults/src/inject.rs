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
        inject(&step, &stack, &target, &platform, &http).await?;
        done.push(Done {
            fault: step.fault,
            began_s,
            ended_s: start.elapsed().as_secs_f64(),
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
) -> anyhow::Result<()> {
    let hold = Duration::from_millis(step.hold_ms);
    match &step.fault {
        Fault::Kill { service } => {
            stack.lock().await.process(*service).kill().await?;
            sleep(hold).await;
            stack.lock().await.process(*service).start(http).await?;
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
        Fault::RestartBroker => platform.restart_broker(hold).await?,
        Fault::RestartPostgres => platform.restart_postgres(hold).await?,
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
    Ok(())
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
