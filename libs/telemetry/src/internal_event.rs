/// Something worth knowing that happened inside a service: emitting it writes
/// the log line and moves the counters together, so the two never disagree
/// and a reader finds both in one place.
pub trait InternalEvent {
    /// Logs the event and records its metrics.
    fn emit(self);
}
