//! Watches the read model during the run: a status seen once must never be
//! seen again further back, whatever crashes and restarts do.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;
use tokio::sync::watch;

use crate::readmodel::{self, Order};

/// A status that moved backwards between two looks.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Backwards {
    pub(crate) id: String,
    pub(crate) from: Order,
    pub(crate) to: Order,
}

/// What the sampler saw.
#[derive(Debug, Default)]
pub(crate) struct Samples {
    /// Looks taken (the ones Postgres answered).
    pub(crate) looks: u32,
    pub(crate) backwards: Vec<Backwards>,
}

/// Looks at every row each `every` until `stop` turns true, then once more.
pub(crate) async fn watch(
    pool: PgPool,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> Samples {
    let mut last: HashMap<String, Order> = HashMap::new();
    let mut samples = Samples::default();
    loop {
        let stopping = *stop.borrow();
        // Postgres is down during its restart: that look is skipped.
        if let Ok(rows) = readmodel::rows(&pool).await {
            samples.looks += 1;
            for (id, row) in rows {
                let now = row.order();
                match last.insert(id.clone(), now) {
                    Some(before) if now < before => {
                        samples.backwards.push(Backwards {
                            id,
                            from: before,
                            to: now,
                        });
                    }
                    _ => {}
                }
            }
        }
        if stopping {
            return samples;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}
