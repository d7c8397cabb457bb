//! Every counter this service can raise, registered at zero at start-up:
//! an alert on `rate(x[5m])` needs the series to exist before the first
//! failure, not from it.

/// Registers the counters with each label value they take.
pub(crate) fn register() {
    // Installs the registry first, or these would go to no recorder.
    orch_http::register_build_info("command");
    for durable_in in ["kafka", "spool"] {
        metrics::counter!("orch_events_accepted_total", "durable_in" => durable_in).absolute(0);
    }
    for reason in ["deadline", "not_durable"] {
        metrics::counter!("orch_events_rejected_total", "reason" => reason).absolute(0);
    }
    // Damage is quarantined (`spool_quarantined_total`), not a read failure.
    metrics::counter!("orch_spool_read_failures_total", "reason" => "io").absolute(0);
    for kind in crate::spool::QuarantineKind::ALL {
        metrics::counter!("orch_spool_quarantined_total", "kind" => kind.as_str()).absolute(0);
    }
    metrics::counter!("orch_produce_errors_total").absolute(0);
    metrics::counter!("orch_spool_forwarded_total").absolute(0);
}
