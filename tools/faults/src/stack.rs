//! The four services of one run, configured for the suite's own platform.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};

use crate::platform::Platform;
use crate::process::Process;
use crate::schedule::Service;

/// The secrets of a run: none may ever appear in a log.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    pub(crate) source: String,
    pub(crate) reader: String,
    pub(crate) target_token: String,
}

impl Keys {
    fn for_seed(seed: u64) -> Self {
        Self {
            source: format!("faults-source-key-{seed:x}-c0ffee"),
            reader: format!("faults-reader-key-{seed:x}-bada55"),
            target_token: format!("faults-target-token-{seed:x}-5ec2e7"),
        }
    }

    /// Each secret with its name.
    pub(crate) fn all(&self) -> [(&'static str, &str); 3] {
        [
            ("source key", &self.source),
            ("reader key", &self.reader),
            ("target token", &self.target_token),
        ]
    }
}

/// How the dispatcher is set up: what the duplicate bound is computed from.
pub(crate) const IN_FLIGHT_PER_PARTITION: u32 = 64;

/// command, dispatcher, query and the sandbox target of one run.
#[derive(Debug)]
pub(crate) struct Stack {
    pub(crate) command: Process,
    pub(crate) dispatcher: Process,
    pub(crate) query: Process,
    pub(crate) target: Process,
    pub(crate) keys: Keys,
    pub(crate) brand: String,
    /// The command service's spool directory (a tmpfs when the run mounted one).
    pub(crate) spool_dir: std::path::PathBuf,
    poison_prefix: String,
}

impl Stack {
    /// The services of run `seed`, logging under `dir`, on fresh topics and database.
    pub(crate) fn new(
        bin_dir: &Path,
        dir: &Path,
        platform: &Platform,
        database_url: &str,
        seed: u64,
        partitions: u32,
        poison_prefix: &str,
    ) -> Self {
        let keys = Keys::for_seed(seed);
        let brand = format!("faultBrand{seed}");
        let port = || orch_testkit::free_port();
        let (command_port, dispatcher_port, query_port, target_port) =
            (port(), port(), port(), port());
        let kafka = || {
            vec![
                ("KAFKA_BOOTSTRAP_SERVERS", platform.bootstrap()),
                ("KAFKA_TOPIC_PREFIX", format!("faults-{seed}.")),
                ("KAFKA_TOPIC_PARTITIONS", partitions.to_string()),
                ("LOG_FORMAT", "json".to_owned()),
                ("RUST_LOG", "info,rdkafka=warn".to_owned()),
            ]
        };
        let owned = |pairs: Vec<(&str, String)>| {
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect::<Vec<_>>()
        };
        let bin = |name: &str| bin_dir.join(name);

        let mut command_env = kafka();
        command_env.extend([
            ("COMMAND_LISTEN_ADDR", format!("127.0.0.1:{command_port}")),
            (
                "COMMAND_SOURCE_KEY_HASHES",
                orch_http::hash_key(&keys.source),
            ),
            (
                "COMMAND_STATUS_BASE_URL",
                format!("http://127.0.0.1:{query_port}"),
            ),
            ("COMMAND_SPOOL_DIR", dir.join("spool").display().to_string()),
            (
                "COMMAND_KAFKA_MESSAGE_TIMEOUT_MS",
                crate::schedule::MESSAGE_TIMEOUT.as_millis().to_string(),
            ),
        ]);
        let mut dispatcher_env = kafka();
        dispatcher_env.extend([
            (
                "DISPATCHER_LISTEN_ADDR",
                format!("127.0.0.1:{dispatcher_port}"),
            ),
            ("DISPATCHER_GROUP_ID", format!("faults-{seed}.dispatcher")),
            (
                "DISPATCHER_TARGET_URL",
                format!("http://127.0.0.1:{target_port}/graphql"),
            ),
            ("DISPATCHER_TARGET_TOKEN", keys.target_token.clone()),
            ("DISPATCHER_BRAND", brand.clone()),
            ("DISPATCHER_RATE_LIMIT_PER_SEC", "400".to_owned()),
            (
                "DISPATCHER_MAX_IN_FLIGHT_PER_PARTITION",
                IN_FLIGHT_PER_PARTITION.to_string(),
            ),
            // Shorter than the target's injected hang, so those are real timeouts.
            ("DISPATCHER_REQUEST_TIMEOUT_MS", "2000".to_owned()),
            // A retry budget longer than any fault a run holds: a deliverable
            // event must come through every one of them.
            ("DISPATCHER_MAX_ATTEMPTS", "40".to_owned()),
            ("DISPATCHER_BACKOFF_MAX_MS", "5000".to_owned()),
            // The breaker probes at most every 5 s, so a refusal window ends
            // in delivery well within the drain's patience.
            ("DISPATCHER_BREAKER_PROBE_MAX_MS", "5000".to_owned()),
            // Target waits are clamped to what a run can afford.
            ("DISPATCHER_MAX_RETRY_AFTER_MS", "10000".to_owned()),
        ]);
        let mut query_env = kafka();
        query_env.extend([
            ("QUERY_LISTEN_ADDR", format!("127.0.0.1:{query_port}")),
            ("QUERY_READER_KEY_HASHES", orch_http::hash_key(&keys.reader)),
            ("QUERY_GROUP_ID", format!("faults-{seed}.projector")),
            ("DATABASE_URL", database_url.to_owned()),
        ]);
        let target_env = vec![
            ("SANDBOX_LISTEN_ADDR", format!("127.0.0.1:{target_port}")),
            ("SANDBOX_TOKEN", keys.target_token.clone()),
            ("SANDBOX_RATE_LIMIT_PER_SEC", "500".to_owned()),
            (
                "SANDBOX_DATA_FILE",
                dir.join("target-items.jsonl").display().to_string(),
            ),
            (
                "SANDBOX_FAULTS",
                target_faults(poison_prefix, &json!({})).to_string(),
            ),
            ("LOG_FORMAT", "json".to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ];
        Self {
            command: Process::new(
                "command",
                &bin("orch-command"),
                owned(command_env),
                dir.join("command.log"),
                command_port,
            ),
            dispatcher: Process::new(
                "dispatcher",
                &bin("orch-dispatcher"),
                owned(dispatcher_env),
                dir.join("dispatcher.log"),
                dispatcher_port,
            ),
            query: Process::new(
                "query",
                &bin("orch-query"),
                owned(query_env),
                dir.join("query.log"),
                query_port,
            ),
            target: Process::new(
                "sandbox-target",
                &bin("orch-sandbox-target"),
                owned(target_env),
                dir.join("target.log"),
                target_port,
            ),
            keys,
            brand,
            spool_dir: dir.join("spool"),
            poison_prefix: poison_prefix.to_owned(),
        }
    }

    /// Starts the target, then query, dispatcher and command.
    pub(crate) async fn start(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        self.target.start(http).await?;
        self.query.start(http).await?;
        self.dispatcher.start(http).await?;
        self.command.start(http).await
    }

    /// The process of `service`.
    pub(crate) fn process(&mut self, service: Service) -> &mut Process {
        match service {
            Service::Command => &mut self.command,
            Service::Dispatcher => &mut self.dispatcher,
            Service::Query => &mut self.query,
        }
    }

    /// Whether every service says it is ready (broker and database reachable).
    pub(crate) async fn ready(&self, http: &reqwest::Client) -> bool {
        self.command.answers(http, "/ready").await
            && self.dispatcher.answers(http, "/ready").await
            && self.query.answers(http, "/ready").await
            && self.target.answers(http, "/health").await
    }

    /// The target's fault switch, usable while the stack is locked by a crash.
    pub(crate) fn target_admin(&self) -> TargetAdmin {
        TargetAdmin {
            url: format!("{}/admin/faults", self.target.base_url),
            poison_prefix: self.poison_prefix.clone(),
        }
    }

    /// Stops every service, gracefully.
    pub(crate) async fn stop(&mut self) {
        for process in [
            &mut self.command,
            &mut self.dispatcher,
            &mut self.query,
            &mut self.target,
        ] {
            if let Err(error) = process.terminate(Duration::from_secs(15)).await {
                eprintln!("  could not stop {}: {error:#}", process.name);
            }
        }
    }
}

/// Sets the sandbox target's injected faults.
#[derive(Debug, Clone)]
pub(crate) struct TargetAdmin {
    url: String,
    poison_prefix: String,
}

impl TargetAdmin {
    /// Puts `faults` (the sandbox's JSON shape) in force, keeping the poison ids refused.
    pub(crate) async fn set(&self, http: &reqwest::Client, faults: &Value) -> anyhow::Result<()> {
        http.put(&self.url)
            .json(&target_faults(&self.poison_prefix, faults))
            .send()
            .await?
            .error_for_status()
            .context("set the target's faults")?;
        Ok(())
    }
}

fn target_faults(poison_prefix: &str, faults: &Value) -> Value {
    let mut faults = faults.clone();
    faults["reject_id_prefix"] = json!(poison_prefix);
    faults
}
