//! The suite's own Kafka broker and Postgres server, which it restarts as
//! faults without disturbing anything else on the machine.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use orch_testkit::{Broker, Postgres};
use sqlx::Connection;

/// A broker and a database server of the suite's own.
#[derive(Debug, Clone)]
pub(crate) struct Platform {
    broker: Arc<Broker>,
    postgres: Arc<Postgres>,
}

impl Platform {
    /// Starts both (each waits until it answers).
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let broker = blocking(Broker::start)
            .await
            .context("start the suite's broker")?;
        let postgres = blocking(Postgres::start)
            .await
            .context("start the suite's Postgres")?;
        Ok(Self {
            broker: Arc::new(broker),
            postgres: Arc::new(postgres),
        })
    }

    /// The broker's bootstrap address.
    pub(crate) fn bootstrap(&self) -> String {
        self.broker.bootstrap()
    }

    /// Creates an empty database and returns its URL.
    pub(crate) async fn create_database(&self, name: &str) -> anyhow::Result<String> {
        let admin = self.postgres.database_url();
        let mut connection = sqlx::PgConnection::connect(&admin).await?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut connection)
            .await
            .with_context(|| format!("create database {name}"))?;
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        Ok(format!("{base}/{name}"))
    }

    /// Crashes the broker: SIGKILL, no controlled shutdown.
    pub(crate) async fn kill_broker(&self) -> anyhow::Result<()> {
        let broker = self.broker.clone();
        blocking(move || broker.kill()).await
    }

    /// Starts the broker again (recovering its log), waiting until it answers.
    pub(crate) async fn start_broker(&self) -> anyhow::Result<()> {
        let broker = self.broker.clone();
        blocking(move || broker.up()).await
    }

    /// A Postgres crash (`immediate`: no checkpoint), `down` of silence, and
    /// a start that recovers from the write-ahead log.
    pub(crate) async fn crash_postgres(&self, down: Duration) -> anyhow::Result<()> {
        let postgres = self.postgres.clone();
        blocking(move || postgres.crash()).await?;
        tokio::time::sleep(down).await;
        let postgres = self.postgres.clone();
        blocking(move || postgres.up()).await
    }
}

/// Runs testkit's blocking (and panicking) start and stop off the runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}
