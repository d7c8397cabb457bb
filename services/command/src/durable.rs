//! Where an accepted record was made durable: the answer of publishing, and
//! a label on the accepted-events counter.

/// Where an accepted record was made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durable {
    /// Kafka acknowledged it with `acks=all`.
    Kafka,
    /// Kafka was too slow or down; it is fsync'd in the local spool.
    Spool,
}
