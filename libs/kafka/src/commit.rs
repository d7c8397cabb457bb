//! Committing what a consumer stored, when it stops or gives partitions up.

use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

/// What a final commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// Stored offsets were committed.
    Offsets,
    /// Nothing was stored since the last commit: nothing to do.
    Nothing,
}

/// Commits the offsets `consumer` stored, synchronously: on shutdown or a
/// revoke, what was finished is not handed to the next owner again. Having
/// nothing to commit is not an error.
pub fn commit_stored<X, C>(consumer: &C) -> Result<Committed, KafkaError>
where
    X: ConsumerContext,
    C: Consumer<X>,
{
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) => Ok(Committed::Offsets),
        Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(Committed::Nothing),
        Err(error) => Err(error),
    }
}
