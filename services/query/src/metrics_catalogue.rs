//! Every counter this service can raise, registered at zero at start-up:
//! an alert on `rate(x[5m])` needs the series to exist before the first
//! failure, not from it.

/// Registers the counters and the overdue gauges.
pub(crate) fn register() {
    // Installs the registry first, or these would go to no recorder.
    orch_http::register_build_info("query");
    metrics::counter!("orch_projection_write_failures_total").absolute(0);
    for reason in ["unreadable", "refused"] {
        metrics::counter!("orch_projection_records_quarantined_total", "reason" => reason)
            .absolute(0);
    }
    for outcome in ["finished", "failed", "taken_over", "handed_back"] {
        metrics::counter!("orch_export_jobs_total", "outcome" => outcome).absolute(0);
    }
    metrics::counter!("orch_export_jobs_failed_total").absolute(0);
    metrics::counter!("orch_export_rows_total").absolute(0);
    metrics::counter!("orch_events_swept_total").absolute(0);
    metrics::counter!("orch_events_overdue_failed_total").absolute(0);
    metrics::counter!("orch_sweep_failures_total").absolute(0);
    // Gauges too: "no overdue events" must be a 0, not an absent series.
    for gauge in [
        "orch_events_overdue",
        "orch_events_overdue_failed",
        "orch_events_overdue_oldest_age_seconds",
    ] {
        metrics::gauge!(gauge).set(0.0);
    }
}
