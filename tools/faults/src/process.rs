//! One service binary run as a child process the suite may kill, pause and
//! start again, logging to one file across restarts.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use rustix::process::{Pid, Signal, kill_process};
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep};

/// A service process and how to start it again.
#[derive(Debug)]
pub(crate) struct Process {
    pub(crate) name: &'static str,
    binary: PathBuf,
    env: Vec<(String, String)>,
    log: PathBuf,
    /// Its `/health` (or `/ready`) URL.
    pub(crate) base_url: String,
    child: Option<Child>,
}

impl Process {
    /// A process not yet started.
    pub(crate) fn new(
        name: &'static str,
        binary: &Path,
        env: Vec<(String, String)>,
        log: PathBuf,
        port: u16,
    ) -> Self {
        Self {
            name,
            binary: binary.to_owned(),
            env,
            log,
            base_url: format!("http://127.0.0.1:{port}"),
            child: None,
        }
    }

    /// Starts it and waits until `/health` answers 200.
    pub(crate) async fn start(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("open {}", self.log.display()))?;
        let child = Command::new(&self.binary)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {}", self.binary.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "{} exited during start-up ({status}); see {}",
                    self.name,
                    self.log.display()
                );
            }
            if self.answers(http, "/health").await {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "{} did not answer /health within 60 s; see {}",
                    self.name,
                    self.log.display()
                );
            }
            sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether `path` answers 2xx now.
    pub(crate) async fn answers(&self, http: &reqwest::Client, path: &str) -> bool {
        http.get(format!("{}{path}", self.base_url))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// SIGKILL, and reap it.
    pub(crate) async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.start_kill()?;
            child.wait().await?;
        }
        Ok(())
    }

    /// SIGSTOP: the process is frozen, sockets open, as in a long GC pause.
    pub(crate) fn pause(&self) -> anyhow::Result<()> {
        self.signal(Signal::STOP)
    }

    /// SIGCONT after [`Self::pause`].
    pub(crate) fn resume(&self) -> anyhow::Result<()> {
        self.signal(Signal::CONT)
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`.
    pub(crate) async fn terminate(&mut self, grace: Duration) -> anyhow::Result<()> {
        if self.child.is_some() {
            self.signal(Signal::TERM)?;
            if let Some(child) = self.child.as_mut()
                && tokio::time::timeout(grace, child.wait()).await.is_ok()
            {
                self.child = None;
            }
        }
        self.kill().await
    }

    fn signal(&self, signal: Signal) -> anyhow::Result<()> {
        let pid = self
            .child
            .as_ref()
            .and_then(Child::id)
            .and_then(|id| Pid::from_raw(id as i32))
            .with_context(|| format!("{} is not running", self.name))?;
        kill_process(pid, signal).with_context(|| format!("signal {} ({signal:?})", self.name))
    }
}
