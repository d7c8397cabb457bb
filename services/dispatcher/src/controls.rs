//! Delivery controls from the compacted `events.control` topic, applied to
//! this replica (`orch_kafka::ControlReader` reads and follows the topic).
//! Every replica reads the whole topic at start, before it takes any event,
//! so a replica that restarts comes back paused (or at the controlled rate).

use std::sync::Arc;

use orch_contracts::{ControlName, ControlRecord, ControlRecordError, DeliveryControl};
use orch_kafka::ControlSink;
use orch_telemetry::InternalEvent as _;
use time::OffsetDateTime;

use crate::gate::{Gate, Pause};
use crate::internal_events::{ControlApplied, ControlRefused};
use crate::share::RateShare;

/// Where controls take effect.
#[derive(Debug, Clone)]
pub(crate) struct ControlTargets {
    pub(crate) gate: Arc<Gate>,
    pub(crate) share: Arc<RateShare>,
}

impl ControlSink for ControlTargets {
    fn apply(&self, record: &ControlRecord) {
        match record.control {
            DeliveryControl::Pause { paused } => self.gate.set_pause(paused.then(|| Pause {
                reason: record.reason.clone(),
                by: record.by.clone(),
                at: record.at,
                until: record.until,
            })),
            DeliveryControl::Rate { events_per_second } => self
                .share
                .set_control(events_per_second.map(|rate| (rate, record.clone()))),
        }
        ControlApplied { record }.emit();
    }

    fn clear(&self, name: ControlName, _at: Option<OffsetDateTime>) {
        match name {
            ControlName::Pause => self.gate.set_pause(None),
            ControlName::Rate => self.share.set_control(None),
        }
        tracing::info!(
            control = name.as_str(),
            "Control cleared; back to its default."
        );
    }

    fn refused(&self, offset: i64, error: &ControlRecordError) {
        ControlRefused { offset, error }.emit();
    }
}
