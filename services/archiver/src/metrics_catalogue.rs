//! Every series this service reports, registered at zero at start-up: an
//! alert on `rate(x[5m])` needs the series before the first failure.

/// Registers the counters and gauges with each label value they take.
pub(crate) fn register() {
    // Installs the registry first, or these would go to no recorder.
    orch_http::register_build_info("archiver");
    metrics::counter!("orch_archiver_records_archived_total").absolute(0);
    metrics::counter!("orch_archiver_bytes_archived_total").absolute(0);
    metrics::counter!("orch_archiver_objects_written_total").absolute(0);
    for step in ["data", "manifest", "commit"] {
        metrics::counter!("orch_archiver_write_failures_total", "step" => step).absolute(0);
    }
    metrics::counter!("orch_archiver_pauses_total").absolute(0);
    metrics::gauge!("orch_archiver_archive_lag_seconds").set(0.0);
    metrics::gauge!("orch_archiver_buffered_bytes").set(0.0);
}
