//! A slow-client siege, as a hostile client on one machine would lay it:
//! connections opened and left silent up to the server's open-file limit,
//! and clients that drip their request a byte at a time (and reconnect when
//! cut off), while real requests arrive at a steady rate. The report says
//! when the silent ones were cut off, how the real requests fared and what
//! the server's memory did.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// What to throw at the server.
#[derive(Debug, Clone)]
pub struct Siege {
    /// Connections opened and never written to.
    pub silent: usize,
    /// Clients dripping `drip` a byte at a time after sending `head` at once.
    pub drippers: usize,
    /// The dripped request's first part, sent at once.
    pub head: String,
    /// The rest, sent one byte per `drip_every`.
    pub drip: Vec<u8>,
    /// The pause between two dripped bytes.
    pub drip_every: Duration,
    /// Real requests per second once the silent connections are cut off.
    pub real_per_second: u32,
    /// How long real requests are sent for.
    pub real_for: Duration,
    /// The most the silent connections may stay open.
    pub cut_off_within: Duration,
}

/// What the siege saw.
#[derive(Debug)]
pub struct SiegeReport {
    /// Silent connections the server's port took.
    pub silent_connected: usize,
    /// When the last silent connection was closed by the server, from when
    /// it was opened (`None` if some were never closed in time).
    pub silent_cut_after: Option<Duration>,
    /// Silent connections still open at `cut_off_within`.
    pub silent_left_open: usize,
    /// Times a dripper was cut off and connected again.
    pub drippers_cut: u64,
    /// Each real request: its status (0 when it got no answer) and latency.
    pub real: Vec<(u16, Duration)>,
    /// The server's resident memory before the siege, in KiB.
    pub rss_before_kib: u64,
    /// Its largest resident memory sampled during the siege, in KiB.
    pub rss_peak_kib: u64,
}

impl SiegeReport {
    /// Real requests that got `status` within `within`.
    pub fn real_answered(&self, status: u16, within: Duration) -> usize {
        self.real
            .iter()
            .filter(|(got, latency)| *got == status && *latency < within)
            .count()
    }

    /// The slowest real request.
    pub fn real_slowest(&self) -> Duration {
        self.real
            .iter()
            .map(|(_, latency)| *latency)
            .max()
            .unwrap_or_default()
    }

    /// Prints the figures, then fails the test unless the server withstood
    /// the siege: the silent connections took all the room it gives clients
    /// (its open-file limit `open_files` less 256 kept for itself; a few
    /// slots may still be held by start-up health checks), so the fault
    /// fired; all were cut in time; the drippers were cut and came back;
    /// every real request got `answer` in < 500 ms; RSS stayed under
    /// `rss_ceiling_kib`.
    pub fn assert_withstood(
        &self,
        service: &str,
        open_files: u32,
        answer: u16,
        rss_ceiling_kib: u64,
    ) {
        eprintln!(
            "slow clients ({service}): {} silent connected, all cut after {:?}, {} drippers cut and back, {} real, slowest {:?}, RSS {} -> peak {} KiB",
            self.silent_connected,
            self.silent_cut_after,
            self.drippers_cut,
            self.real.len(),
            self.real_slowest(),
            self.rss_before_kib,
            self.rss_peak_kib,
        );
        assert!(
            self.silent_connected as u64 + 256 + 16 >= u64::from(open_files),
            "only {} silent connections got through",
            self.silent_connected
        );
        assert_eq!(
            self.silent_left_open, 0,
            "silent connections outlived the cut-off"
        );
        assert!(self.drippers_cut > 0, "the drippers were never cut off");
        assert_eq!(
            self.real_answered(answer, Duration::from_millis(500)),
            self.real.len(),
            "every real request answered {answer} in < 500 ms: {:?}",
            self.real
        );
        assert!(
            self.rss_peak_kib <= rss_ceiling_kib,
            "RSS peaked at {} KiB",
            self.rss_peak_kib
        );
    }
}

/// The resident memory of process `pid`, in KiB (0 when it cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Lays `siege` against `addr`, served by process `pid`; `real(n)` sends
/// the n-th real request and answers its status.
pub async fn besiege<F, Fut>(addr: SocketAddr, pid: u32, siege: Siege, real: F) -> SiegeReport
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Option<u16>> + Send + 'static,
{
    let rss_before_kib = rss_kib(pid);
    let rss_peak = Arc::new(AtomicU64::new(rss_before_kib));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample_rss(pid, rss_peak.clone(), done.clone()));

    let began = Instant::now();
    let silent = open_silent(addr, siege.silent).await;
    let silent_connected = silent.len();
    let drippers_cut = Arc::new(AtomicU64::new(0));
    let mut drippers = JoinSet::new();
    for _ in 0..siege.drippers {
        drippers.spawn(drip(
            addr,
            siege.head.clone(),
            siege.drip.clone(),
            siege.drip_every,
            drippers_cut.clone(),
            done.clone(),
        ));
    }
    let (silent_cut_after, silent_left_open) =
        await_cut_off(silent, began + siege.cut_off_within).await;

    let mut answers = JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1) / siege.real_per_second.max(1));
    let real_began = Instant::now();
    let mut n = 0;
    while real_began.elapsed() < siege.real_for {
        tick.tick().await;
        let sent = Instant::now();
        let answer = real(n);
        answers.spawn(async move { (answer.await.unwrap_or(0), sent.elapsed()) });
        n += 1;
    }
    let real = answers.join_all().await;

    done.store(true, Ordering::Relaxed);
    drippers.shutdown().await;
    let _ = sampler.await;
    SiegeReport {
        silent_connected,
        silent_cut_after,
        silent_left_open,
        drippers_cut: drippers_cut.load(Ordering::Relaxed),
        real,
        rss_before_kib,
        rss_peak_kib: rss_peak.load(Ordering::Relaxed),
    }
}

async fn sample_rss(pid: u32, peak: Arc<AtomicU64>, done: Arc<AtomicBool>) {
    while !done.load(Ordering::Relaxed) {
        peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens up to `count` connections, 100 at a time; a connect that does not
/// complete in 3 s (the accept queue is full) is not counted. A burst of SYNs
/// can see a few dropped and retried after 1 s, hence the 3 s.
async fn open_silent(addr: SocketAddr, count: usize) -> Vec<(Instant, TcpStream)> {
    let mut open = Vec::with_capacity(count);
    let mut remaining = count;
    while remaining > 0 {
        let batch = remaining.min(100);
        remaining -= batch;
        let mut connecting = JoinSet::new();
        for _ in 0..batch {
            connecting.spawn(async move {
                let stream =
                    tokio::time::timeout(Duration::from_secs(3), TcpStream::connect(addr)).await;
                stream
                    .ok()
                    .and_then(Result::ok)
                    .map(|s| (Instant::now(), s))
            });
        }
        open.extend(connecting.join_all().await.into_iter().flatten());
    }
    open
}

/// Waits until the server closes every silent connection or `deadline`;
/// answers the longest any stayed open and how many outlived the deadline.
async fn await_cut_off(
    silent: Vec<(Instant, TcpStream)>,
    deadline: Instant,
) -> (Option<Duration>, usize) {
    let mut closing = JoinSet::new();
    for (opened, mut stream) in silent {
        closing.spawn(async move {
            let mut buf = [0u8; 1024];
            let closed = tokio::time::timeout_at(deadline, async {
                // Anything the server sends (it should send nothing) is read
                // and dropped; EOF or a reset is the cut-off.
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    let _ = n;
                }
            })
            .await;
            closed.ok().map(|()| opened.elapsed())
        });
    }
    let closed = closing.join_all().await;
    let left_open = closed.iter().filter(|c| c.is_none()).count();
    let longest = (left_open == 0).then(|| closed.into_iter().flatten().max().unwrap_or_default());
    (longest, left_open)
}

/// One dripper: sends `head`, then `drip` a byte at a time, reading
/// whatever the server answers; when cut off, counts it and starts again.
async fn drip(
    addr: SocketAddr,
    head: String,
    drip: Vec<u8>,
    every: Duration,
    cut: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
) {
    while !done.load(Ordering::Relaxed) {
        let Ok(Ok(mut stream)) =
            tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(addr)).await
        else {
            tokio::time::sleep(every).await;
            continue;
        };
        if stream.write_all(head.as_bytes()).await.is_err() {
            cut.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let (mut reader, mut writer) = stream.split();
        let mut buf = [0u8; 1024];
        let dripping = async {
            for byte in drip.iter().cycle() {
                tokio::time::sleep(every).await;
                if done.load(Ordering::Relaxed)
                    || writer.write_all(std::slice::from_ref(byte)).await.is_err()
                {
                    return;
                }
            }
        };
        let answered = async { while let Ok(1..) = reader.read(&mut buf).await {} };
        tokio::select! {
            () = dripping => {}
            () = answered => { cut.fetch_add(1, Ordering::Relaxed); }
        }
    }
}

/// Slow clients kept up in the background against a running service: a
/// batch of silent connections opened again each time the server cuts them,
/// and drippers that reconnect when cut. For a fault suite's run, beside
/// the real load.
#[derive(Debug)]
pub struct Harassment {
    done: Arc<AtomicBool>,
    tasks: JoinSet<()>,
    silent_opened: Arc<AtomicU64>,
    silent_cut: Arc<AtomicU64>,
    drippers_cut: Arc<AtomicU64>,
}

/// What a harassment did.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Harassed {
    /// Silent connections the server's port took.
    pub silent_opened: u64,
    /// Of those, cut off by the server.
    pub silent_cut: u64,
    /// Times a dripper was cut off and connected again.
    pub drippers_cut: u64,
}

impl Harassment {
    /// Starts `silent` silent connections and `drippers` drippers (sending
    /// `head`, then `dripped` a byte per `every`) against `addr`.
    pub fn start(
        addr: SocketAddr,
        silent: usize,
        drippers: usize,
        head: String,
        dripped: Vec<u8>,
        every: Duration,
    ) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let (silent_opened, silent_cut, drippers_cut) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
        );
        let mut tasks = JoinSet::new();
        {
            let (done, opened, cut) = (done.clone(), silent_opened.clone(), silent_cut.clone());
            tasks.spawn(async move {
                while !done.load(Ordering::Relaxed) {
                    let batch = open_silent(addr, silent).await;
                    opened.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    let count = batch.len();
                    let (_, left_open) =
                        await_cut_off(batch, Instant::now() + Duration::from_secs(30)).await;
                    cut.fetch_add((count - left_open) as u64, Ordering::Relaxed);
                    if count == 0 {
                        // The service is down (a crash): try again shortly.
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            });
        }
        for _ in 0..drippers {
            tasks.spawn(drip(
                addr,
                head.clone(),
                dripped.clone(),
                every,
                drippers_cut.clone(),
                done.clone(),
            ));
        }
        Self {
            done,
            tasks,
            silent_opened,
            silent_cut,
            drippers_cut,
        }
    }

    /// Stops every client and says what they did.
    pub async fn stop(mut self) -> Harassed {
        self.done.store(true, Ordering::Relaxed);
        self.tasks.shutdown().await;
        Harassed {
            silent_opened: self.silent_opened.load(Ordering::Relaxed),
            silent_cut: self.silent_cut.load(Ordering::Relaxed),
            drippers_cut: self.drippers_cut.load(Ordering::Relaxed),
        }
    }
}
