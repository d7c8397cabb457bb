//! Every counter this service can raise, registered at zero at start-up:
//! an alert on `rate(x[5m])` needs the series to exist before the first
//! failure, not from it.

/// Registers the counters.
pub(crate) fn register() {
    // Installs the registry first, or these would go to no recorder.
    orch_http::metrics_handle();
    metrics::counter!("projection_write_failures_total").absolute(0);
    for reason in ["unreadable", "refused"] {
        metrics::counter!("projection_records_quarantined_total", "reason" => reason).absolute(0);
    }
    for outcome in ["finished", "failed", "taken_over", "handed_back"] {
        metrics::counter!("export_jobs_total", "outcome" => outcome).absolute(0);
    }
    metrics::counter!("export_jobs_failed_total").absolute(0);
    metrics::counter!("export_rows_total").absolute(0);
}
