//! orch-faults: the fault suite. An oracle issues events and records every
//! 202 while a seeded schedule kills, pauses and restarts the services, the
//! broker and Postgres and makes the target fail; after the drain, every
//! accepted event must be at its end in Postgres and (when deliverable) at the
//! target, with its payload, and nothing else may be anywhere.

mod cli;
mod inject;
mod load;
mod oracle;
mod platform;
mod process;
mod readmodel;
mod report;
mod run;
mod sampler;
mod schedule;
mod spool_watch;
mod stack;
mod statuslog;
mod verdict;

use clap::Parser;

use crate::cli::Args;
use crate::platform::Platform;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let seed = args
        .seed
        .unwrap_or_else(|| u64::from(rand::random::<u32>()));
    let command = format!(
        "dev/faults --runs {} --events {} --profile {} --seed {seed}",
        args.runs,
        args.events,
        match args.profile {
            schedule::Profile::Long => "long",
            schedule::Profile::Short => "short",
        }
    );
    eprintln!("Fault suite: first seed {seed}; replay with {command}");
    eprintln!("Starting the suite's own Kafka broker and Postgres ...");
    let platform = Platform::start().await?;
    let stamp = time::OffsetDateTime::now_utc().format(time::macros::format_description!(
        "[year][month][day]T[hour][minute][second]Z"
    ))?;
    let mut reports = Vec::new();
    for n in 0..args.runs {
        let seed = seed + u64::from(n);
        eprintln!("Run {}/{} (seed {seed}):", n + 1, args.runs);
        let report = run::run(&args, &platform, seed)
            .await
            .map_err(|e| e.context(format!("run with seed {seed} could not finish")))?;
        eprintln!(
            "  {}: {} accepted, {} lost, {} invented, {} backwards, {} duplicates (bound {}), fresh event {}",
            if report.passed() { "pass" } else { "FAIL" },
            report.verdict.accepted,
            report.verdict.lost.len() + report.verdict.missing_at_target.len(),
            report.verdict.invented.len(),
            report.verdict.backwards.len(),
            report.verdict.duplicates,
            report.verdict.duplicate_bound,
            report
                .fresh_delivered_s
                .map_or("never delivered".to_owned(), |s| format!(
                    "delivered in {s:.2} s"
                )),
        );
        if !report.passed() {
            eprintln!("  findings: {}", serde_json::to_string(&report.verdict)?);
            if !report.spool_proven() {
                eprintln!(
                    "  spool: outages {:?}, depth after {:?}",
                    report.spool_in_outages, report.spool_depth_after
                );
            }
            eprintln!("  logs: {}", report.work_dir.display());
        }
        reports.push(report);
        // Written after every run, so a long series interrupted keeps what
        // it proved so far.
        if let Some(dir) = &args.results_dir {
            report::write(dir, &stamp, &command, &reports)?;
        }
    }
    let markdown = match &args.results_dir {
        Some(dir) => report::write(dir, &stamp, &command, &reports)?,
        None => report::markdown(&stamp, &command, &reports),
    };
    println!("{markdown}");
    let failed = reports.iter().filter(|r| !r.passed()).count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} runs broke an invariant", reports.len());
    }
    Ok(())
}
