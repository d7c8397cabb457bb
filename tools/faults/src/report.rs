//! The suite's report: one line per run and the totals, printed and written
//! under the results directory as JSON and markdown.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde_json::json;

use crate::run::RunReport;

/// Writes `faults-<stamp>.json`, `faults-<stamp>.md` and `faults-latest.md`.
pub(crate) fn write(
    dir: &Path,
    stamp: &str,
    command: &str,
    runs: &[RunReport],
) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir)?;
    let markdown = markdown(stamp, command, runs);
    let json = json!({ "suite": "faults", "run": stamp, "command": command, "runs": runs });
    std::fs::write(
        dir.join(format!("faults-{stamp}.json")),
        serde_json::to_string_pretty(&json)? + "\n",
    )
    .context("write the JSON report")?;
    std::fs::write(dir.join(format!("faults-{stamp}.md")), &markdown)?;
    std::fs::write(dir.join("faults-latest.md"), &markdown)?;
    Ok(markdown)
}

/// The markdown table.
pub(crate) fn markdown(stamp: &str, command: &str, runs: &[RunReport]) -> String {
    let mut md = format!(
        "# Fault suite, {stamp}\n\n`{command}`\n\n\
         Each run: a fresh stack (command, dispatcher, query, sandbox target) on the suite's own\n\
         Kafka broker and Postgres, the oracle's events sent at a steady rate while a seeded\n\
         schedule crashes, pauses and restarts things; then a drain and the checks.\n\
         Taken = 202s plus unanswered requests found in the read model (checked the same way).\n\n\
         Backwards = rows found behind a status record (every record of the status topic is\n\
         checked after the drain) or moving back between two looks (sampled during the run).\n\
         Spool = the least of the deepest spool seen in each long broker outage (0 would mean an\n\
         outage the spool did not take), and its depth after the drain.\n\n\
         | seed | events | accepted | unanswered (found) | refused | faults | lost | invented | backwards | status records checked | wrong status | payload mismatch | duplicates (bound) | spool: outages, least max depth, after | disk filled | slow clients: silent cut / drippers cut | ready after (s) | drained after (s) | fresh event delivered (s) | secrets in logs | result |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    );
    let mut totals = [0usize; 8];
    let mut worst_drain = 0f64;
    let mut worst_fresh = 0f64;
    for run in runs {
        let v = &run.verdict;
        let lost = v.lost.len() + v.missing_at_target.len();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {}, {}, {} | {} | {} / {} | {:.1} | {:.1} | {} | {} | {} |",
            run.seed,
            v.issued,
            v.accepted,
            v.unknown,
            v.unknown_present,
            v.refused + v.unreachable,
            run.faults.len(),
            lost,
            v.invented.len(),
            v.backwards.len(),
            run.status_records_checked,
            v.wrong_status.len() + v.poison_at_target.len(),
            v.mismatched.len(),
            v.duplicates,
            v.duplicate_bound,
            run.spool_in_outages.len(),
            run.spool_in_outages
                .iter()
                .map(|o| o.max_depth)
                .min()
                .map_or("-".to_owned(), |d| d.to_string()),
            run.spool_depth_after
                .map_or("?".to_owned(), |d| d.to_string()),
            disk_filled(run),
            run.slow_clients.silent_cut,
            run.slow_clients.drippers_cut,
            run.ready_after_s,
            run.drained_after_s,
            run.fresh_delivered_s
                .map_or("never".to_owned(), |s| format!("{s:.2}")),
            run.secrets_in_logs.len(),
            if run.passed() { "pass" } else { "FAIL" },
        );
        for (total, n) in totals.iter_mut().zip([
            v.issued,
            v.accepted,
            run.faults.len(),
            lost,
            v.invented.len(),
            v.backwards.len(),
            v.duplicates as usize,
            usize::from(run.passed()),
        ]) {
            *total += n;
        }
        worst_drain = worst_drain.max(run.drained_after_s);
        worst_fresh = worst_fresh.max(run.fresh_delivered_s.unwrap_or(f64::INFINITY));
    }
    let _ = write!(
        md,
        "\n**{} runs, {} passed.** {} events issued, {} accepted; {} faults injected; \
         {} lost, {} invented, {} moved backwards; {} duplicates at the target. \
         Slowest drain after the last fault {:.1} s; slowest fresh event {:.2} s.\n",
        runs.len(),
        totals[7],
        totals[0],
        totals[1],
        totals[2],
        totals[3],
        totals[4],
        totals[5],
        totals[6],
        worst_drain,
        worst_fresh,
    );
    let mut by_kind: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for run in runs {
        for (kind, count) in &run.duplicates_by_fault {
            *by_kind.entry(kind).or_default() += count;
        }
    }
    md += "\nRepeated deliveries (a second `delivered` status for one event and generation), \
           by the kind of fault that last began before each, over all runs:\n\n\
           | fault kind | repeated deliveries |\n|---|---|\n";
    for (kind, count) in by_kind {
        let _ = writeln!(md, "| {kind} | {count} |");
    }
    md
}

/// Whether the run's disk fault filled the spool's disk and the spool then
/// drained with the disk still full ("-" without one).
fn disk_filled(run: &RunReport) -> &'static str {
    let fills: Vec<bool> = run
        .faults
        .iter()
        .filter(|done| done.fault == crate::schedule::Fault::FillSpoolDisk)
        .map(|done| done.seen.disk_filled == Some(true) && done.seen.drained_full == Some(true))
        .collect();
    match fills.as_slice() {
        [] => "-",
        fills if fills.iter().all(|filled| *filled) => "yes, drained",
        _ => "NO",
    }
}
