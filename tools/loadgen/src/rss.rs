//! Samples a process's resident memory from /proc while the load runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Resident memory figures, in MiB.
pub(crate) struct Memory {
    /// Largest VmRSS seen in the samples.
    pub(crate) max_rss_mb: f64,
    /// VmHWM at the end: the kernel's own peak.
    pub(crate) hwm_mb: f64,
}

pub(crate) struct Sampler {
    pid: u32,
    stop: Arc<AtomicBool>,
    max_kb: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
}

impl Sampler {
    pub(crate) fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let max_kb = Arc::new(AtomicU64::new(0));
        let (stop_flag, max) = (stop.clone(), max_kb.clone());
        let thread = std::thread::spawn(move || {
            while !stop_flag.load(Ordering::Relaxed) {
                if let Some(kb) = status_kb(pid, "VmRSS:") {
                    max.fetch_max(kb, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        Self {
            pid,
            stop,
            max_kb,
            thread,
        }
    }

    pub(crate) fn stop(self) -> Memory {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        Memory {
            max_rss_mb: self.max_kb.load(Ordering::Relaxed) as f64 / 1024.0,
            hwm_mb: status_kb(self.pid, "VmHWM:").unwrap_or(0) as f64 / 1024.0,
        }
    }
}

/// A `kB` field of /proc/<pid>/status.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
