//! Writing a batch so that one bad record cannot stall the projection: a
//! batch Postgres refuses for a reason a retry cannot mend is split in halves
//! until the record at fault stands alone; that record is quarantined and
//! the rest projected. Failures a retry can mend (the database is down, a
//! deadlock) are waited out as the caller's policy says.

use std::future::Future;

use orch_telemetry::InternalEvent as _;
use sqlx::PgPool;

use super::batch::{Batch, Single, Split};
use super::internal_events::RecordQuarantined;
use super::store;

/// What to do after a failure a retry may mend: `Ok` to try again (after
/// waiting), `Err` to give up.
pub(crate) trait OnTransient {
    fn wait(&mut self, error: &sqlx::Error) -> impl Future<Output = Result<(), ()>> + Send;
}

/// Whether Postgres refused the batch for what it holds, not for how the
/// database is: SQLSTATE classes 22 (data exception), 23 (integrity
/// constraint) and 54 (program limit, such as an index row too large), or a
/// value that could not be encoded. Anything else (connection, resources,
/// operator intervention, a missing table) is retried: quarantining every
/// record because the database is unwell would be worse than waiting.
pub(crate) fn is_deterministic(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            ["22", "23", "54"]
                .iter()
                .any(|class| code.starts_with(class))
        }),
        sqlx::Error::Encode(_) => true,
        _ => false,
    }
}

/// Writes `batch`, isolating and quarantining records Postgres refuses;
/// answers how many were quarantined. `Err` when `on_transient` gives up
/// (the batch is then not fully written, and must be replayed).
pub(crate) async fn write_isolating<P: OnTransient>(
    pool: &PgPool,
    batch: Batch,
    on_transient: &mut P,
) -> Result<usize, sqlx::Error> {
    let mut quarantined = 0;
    let mut pending = vec![batch];
    while let Some(batch) = pending.pop() {
        let refused = loop {
            match store::write(pool, &batch).await {
                Ok(()) => break None,
                Err(error) if is_deterministic(&error) => break Some(error),
                Err(error) => {
                    if on_transient.wait(&error).await.is_err() {
                        return Err(error);
                    }
                }
            }
        };
        let Some(refusal) = refused else {
            quarantined += batch.unreadable.len();
            continue;
        };
        match batch.split() {
            Split::Halves(first, second) => pending.extend([second, first]),
            Split::One(single) => {
                let kept = quarantine(pool, &single, &refusal, on_transient).await?;
                RecordQuarantined {
                    single: &single,
                    error: &refusal,
                    kept,
                }
                .emit();
                quarantined += 1;
            }
            Split::Empty => {}
        }
    }
    Ok(quarantined)
}

/// Inserts `single` in the quarantine table, waiting out transient failures;
/// answers whether the row was kept. A row the table itself refuses is only
/// logged (with where the record is in Kafka), never a reason to stall.
async fn quarantine<P: OnTransient>(
    pool: &PgPool,
    single: &Single,
    refusal: &sqlx::Error,
    on_transient: &mut P,
) -> Result<bool, sqlx::Error> {
    let error = refusal.to_string();
    loop {
        match store::quarantine(pool, single, &error).await {
            Ok(()) => return Ok(true),
            Err(error) if is_deterministic(&error) => return Ok(false),
            Err(error) => {
                if on_transient.wait(&error).await.is_err() {
                    return Err(error);
                }
            }
        }
    }
}
