//! Readiness answered from state refreshed in the background: a readiness
//! probe (the kubelet's, every few seconds, from every node) must answer at
//! once and never queue a call to a dependency per request.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// A yes/no fact about a dependency ("a broker answers", "the database
/// answers"), re-checked by a background task.
#[derive(Debug, Clone, Default)]
pub struct Watched(Arc<AtomicBool>);

impl Watched {
    /// Starts a task that runs `probe` now and then every `every` (each run
    /// bounded by `every` too, so a hung dependency reads as down), until
    /// `stop`. False until the first probe answers.
    pub fn spawn<F, Fut>(every: Duration, stop: CancellationToken, probe: F) -> Self
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = bool> + Send,
    {
        let watched = Self::default();
        let fact = watched.0.clone();
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                let answered = tokio::time::timeout(every, probe()).await.unwrap_or(false);
                fact.store(answered, Ordering::Relaxed);
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(every) => {}
                }
            }
        });
        watched
    }

    /// The latest answer.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_the_probe_and_reads_a_hung_probe_as_down() {
        let calls = Arc::new(AtomicU32::new(0));
        let stop = CancellationToken::new();
        let watched = {
            let calls = calls.clone();
            Watched::spawn(Duration::from_secs(1), stop.clone(), move || {
                let call = calls.fetch_add(1, Ordering::Relaxed);
                async move {
                    if call >= 2 {
                        std::future::pending::<()>().await;
                    }
                    true
                }
            })
        };
        assert!(!watched.get(), "nothing known before the first probe");
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(watched.get());
        // The third probe hangs: after its timeout the fact reads false.
        tokio::time::sleep(Duration::from_millis(3_100)).await;
        assert!(!watched.get());
        stop.cancel();
    }
}
