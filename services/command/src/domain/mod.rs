//! Domain types parsed at the edge, so handlers only ever see valid values.

mod event_time;
mod new_event;

pub use event_time::EventTime;
pub use new_event::NewEvent;
pub use orch_contracts::EventId;
