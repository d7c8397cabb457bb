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
    scram: Option<Scram>,
}

/// A SASL_SSL listener with one SCRAM-SHA-512 user.
#[derive(Debug, Clone)]
struct Scram {
    port: u16,
    user: String,
    password: String,
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
            scram: None,
        };
        broker.up();
        broker
    }

    /// Starts a broker that also listens with SASL_SSL, as MSK does, with a
    /// self-signed certificate and the SCRAM-SHA-512 user `user`.
    pub fn start_with_scram(user: &str, password: &str) -> Self {
        let broker = Self {
            state_dir: std::env::temp_dir()
                .join(format!("orch-broker-{}", uuid::Uuid::new_v4().simple())),
            port: crate::free_port(),
            controller_port: crate::free_port(),
            scram: Some(Scram {
                port: crate::free_port(),
                user: user.to_owned(),
                password: password.to_owned(),
            }),
        };
        broker.up();
        broker
    }

    /// The SASL_SSL listener's bootstrap address, if it has one.
    pub fn sasl_ssl_bootstrap(&self) -> Option<String> {
        self.scram
            .as_ref()
            .map(|scram| format!("127.0.0.1:{}", scram.port))
    }

    /// The PEM file clients trust the SASL_SSL listener's certificate with.
    pub fn ca_location(&self) -> PathBuf {
        self.state_dir.join("tls/ca.pem")
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

    /// Crashes it: SIGKILL, no controlled shutdown.
    pub fn kill(&self) {
        self.dev_kafka(&["down", "--kill"]);
    }

    fn dev_kafka(&self, args: &[&str]) {
        let mut command = Command::new(crate::repo_root().join("dev/kafka"));
        command
            .args(args)
            .env("KAFKA_STATE_DIR", &self.state_dir)
            .env("KAFKA_PORT", self.port.to_string())
            .env("KAFKA_CONTROLLER_PORT", self.controller_port.to_string())
            .env("KAFKA_HEAP", "512m");
        if let Some(scram) = &self.scram {
            command
                .env("KAFKA_SASL_SSL_PORT", scram.port.to_string())
                .env("KAFKA_SCRAM_USER", &scram.user)
                .env("KAFKA_SCRAM_PASSWORD", &scram.password);
        }
        let status = command.status().expect("run dev/kafka");
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
