//! Writing an outcome until Kafka has it.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use orch_kafka::Backoff;

/// The dispatcher is stopping before this event's outcome was made durable; its
/// offset must not be stored, so the group delivers it again.
#[derive(Debug)]
pub(crate) struct Abandoned;

/// Backoff for re-sending an outcome record while Kafka is unavailable.
const OUTCOME_RETRY: Backoff = Backoff {
    base: Duration::from_millis(100),
    max: Duration::from_secs(5),
};

/// Repeats `write` until Kafka acknowledges it; only `cancel` stops it.
pub(crate) async fn durably<F, Fut>(cancel: &CancellationToken, write: F) -> Result<(), Abandoned>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), rdkafka::error::KafkaError>>,
{
    let mut retries = OUTCOME_RETRY.retries();
    loop {
        let outcome = tokio::select! {
            () = cancel.cancelled() => return Err(Abandoned),
            outcome = write() => outcome,
        };
        let Err(error) = outcome else {
            return Ok(());
        };
        let delay = retries.failed();
        let failures = retries.failures();
        tracing::warn!(error = %orch_telemetry::error_chain(&error), failures, "Writing an outcome to Kafka failed; retrying.");
        orch_kafka::wait(cancel, delay)
            .await
            .map_err(|_| Abandoned)?;
    }
}
