//! The projector: reads `events.raw` and `events.status` in its own consumer
//! group, writes each batch in one transaction, and stores offsets only after
//! that transaction commits, so a crash replays at most the last batch (which
//! the idempotent upserts absorb).

mod batch;
mod consumer;
mod internal_events;
mod isolate;
mod lag;
mod store;

pub(crate) use batch::{Batch, Origin};
pub(crate) use consumer::{Batching, ProjectorConsumer, build, run};
pub(crate) use isolate::{OnTransient, write_isolating};
pub(crate) use store::quarantined_count;
