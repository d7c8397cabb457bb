//! Every counter this service can raise, registered at zero at start-up:
//! an alert on `rate(x[5m])` needs the series to exist before the first
//! failure, not from it.

use orch_contracts::ErrorKind;

/// Registers the counters with each label value they take.
pub(crate) fn register() {
    // Installs the registry first, or these would go to no recorder.
    orch_http::register_build_info("dispatcher");
    for outcome in ["delivered", "dead_lettered", "unreadable"] {
        metrics::counter!("orch_deliveries_total", "outcome" => outcome).absolute(0);
    }
    for kind in [
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::RateLimited,
        ErrorKind::ServerError,
    ] {
        metrics::counter!("orch_delivery_retries_total", "kind" => kind.as_str()).absolute(0);
    }
    metrics::counter!("orch_delivery_rate_limited_total").absolute(0);
    for fault in crate::classify::Fault::ALL {
        metrics::counter!("orch_dispatcher_breaker_opened_total", "fault" => fault.as_str())
            .absolute(0);
    }
    metrics::counter!("orch_dispatcher_breaker_probes_failed_total").absolute(0);
    metrics::counter!("orch_dispatcher_task_panics_total").absolute(0);
    for control in [
        orch_contracts::ControlName::Pause,
        orch_contracts::ControlName::Rate,
    ] {
        metrics::counter!("orch_dispatcher_controls_applied_total", "control" => control.as_str())
            .absolute(0);
    }
    metrics::counter!("orch_dispatcher_controls_refused_total").absolute(0);
}
