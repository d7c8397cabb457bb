//! Samples a process's resident memory and CPU time from /proc while the load runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Resident memory figures, in MiB.
pub(crate) struct Memory {
    /// Largest VmRSS seen in the samples.
    pub(crate) max_rss_mb: f64,
    /// VmHWM at the end: the kernel's own peak.
    pub(crate) hwm_mb: f64,
    /// CPU seconds (user + system, all threads) spent while sampling.
    pub(crate) cpu_s: Option<f64>,
}

pub(crate) struct Sampler {
    pid: u32,
    stop: Arc<AtomicBool>,
    max_kb: Arc<AtomicU64>,
    cpu_at_start: Option<f64>,
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
            cpu_at_start: cpu_seconds(pid),
            thread,
        }
    }

    pub(crate) fn stop(self) -> Memory {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        Memory {
            max_rss_mb: self.max_kb.load(Ordering::Relaxed) as f64 / 1024.0,
            hwm_mb: status_kb(self.pid, "VmHWM:").unwrap_or(0) as f64 / 1024.0,
            cpu_s: cpu_seconds(self.pid)
                .zip(self.cpu_at_start)
                .map(|(end, start)| end - start),
        }
    }
}

/// A `kB` field of /proc/<pid>/status.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux
/// architecture this runs on (the kernel's ABI, whatever its own HZ).
const USER_HZ: f64 = 100.0;

/// The process's CPU time so far (utime + stime of /proc/<pid>/stat), in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it start
    // past its closing parenthesis: state is field 3, utime 14, stime 15.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / USER_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_of_this_process_is_read_and_grows_with_work() {
        let pid = std::process::id();
        let before = cpu_seconds(pid).expect("this process's /proc/<pid>/stat");
        let spin = std::time::Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = cpu_seconds(pid).expect("read again");
        assert!(
            after - before >= 0.1,
            "{before} → {after} after 300 ms of spinning"
        );
    }
}
