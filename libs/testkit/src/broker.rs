use std::path::PathBuf;
use std::process::Command;

/// A Kafka broker of the test's own, which it may stop and start without
/// disturbing the tests that share the main one. Run by `dev/kafka` with its own
/// state directory and ports; wiped when dropped.
#[derive(Debug)]
pub struct Broker {
    state_dir: PathBuf,
    port: u16,
    controller_port: u16,
}

impl Broker {
    /// Starts a new broker and waits until it answers.
    pub fn start() -> Self {
        let state_dir =
            std::env::temp_dir().join(format!("orch-broker-{}", uuid::Uuid::new_v4().simple()));
        let broker = Self {
            state_dir,
            port: crate::free_port(),
            controller_port: crate::free_port(),
        };
        broker.up();
        broker
    }

    /// Its bootstrap address.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts it again after `stop`, with its data.
    pub fn up(&self) {
        self.dev_kafka(&["up"]);
    }

    /// Stops it (SIGTERM, as an orderly broker shutdown).
    pub fn stop(&self) {
        self.dev_kafka(&["down"]);
    }

    fn dev_kafka(&self, args: &[&str]) {
        let status = Command::new(crate::repo_root().join("dev/kafka"))
            .args(args)
            .env("KAFKA_STATE_DIR", &self.state_dir)
            .env("KAFKA_PORT", self.port.to_string())
            .env("KAFKA_CONTROLLER_PORT", self.controller_port.to_string())
            .env("KAFKA_HEAP", "512m")
            .status()
            .expect("run dev/kafka");
        assert!(
            status.success(),
            "dev/kafka {args:?} failed for the test broker"
        );
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.dev_kafka(&["down", "--wipe"]);
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}
