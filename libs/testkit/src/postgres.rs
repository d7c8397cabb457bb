use std::path::PathBuf;
use std::process::Command;

/// A PostgreSQL server of the test's own, which it may stop and start without
/// disturbing the tests that share the main one. Run by `dev/postgres` with its
/// own state directory and port; wiped when dropped.
#[derive(Debug)]
pub struct Postgres {
    cache_dir: PathBuf,
    port: u16,
    tls_only: bool,
}

impl Postgres {
    /// Starts a new server (a fresh cluster) and waits until it answers.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// Starts a server that refuses connections without TLS, as RDS does
    /// with `rds.force_ssl`; its certificate is at [`Self::ca_location`].
    pub fn start_tls_only() -> Self {
        Self::start_with(true)
    }

    fn start_with(tls_only: bool) -> Self {
        let cache_dir =
            std::env::temp_dir().join(format!("orch-postgres-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&cache_dir).expect("create the test server's state directory");
        let server = Self {
            cache_dir,
            port: crate::free_port(),
            tls_only,
        };
        server.up();
        server
    }

    /// The URL of its `orchestrator` database.
    pub fn database_url(&self) -> String {
        format!(
            "postgres://orchestrator:orchestrator@127.0.0.1:{}/orchestrator",
            self.port
        )
    }

    /// The PEM certificate of the CA that signed a TLS-only server's certificate.
    pub fn ca_location(&self) -> PathBuf {
        self.cache_dir.join("postgres-ca.pem")
    }

    /// Starts it again after `stop`, with its data.
    pub fn up(&self) {
        self.dev_postgres(&["up"]);
    }

    /// Stops it (a fast shutdown: sessions are cut, as when a database fails).
    pub fn stop(&self) {
        self.dev_postgres(&["down"]);
    }

    /// Crashes it: an immediate shutdown, no checkpoint; the next start
    /// recovers from the write-ahead log.
    pub fn crash(&self) {
        self.dev_postgres(&["down", "--immediate"]);
    }

    fn dev_postgres(&self, args: &[&str]) {
        let mut command = Command::new(crate::repo_root().join("dev/postgres"));
        if self.tls_only {
            command.env("PG_TLS", "only");
        }
        let status = command
            .args(args)
            .env("ORCH_CACHE_DIR", &self.cache_dir)
            .env("PGPORT", self.port.to_string())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run dev/postgres");
        assert!(
            status.success(),
            "dev/postgres {args:?} failed for the test server"
        );
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.dev_postgres(&["down", "--wipe"]);
        let _ = std::fs::remove_dir_all(&self.cache_dir);
    }
}
