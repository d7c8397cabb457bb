use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::Consumer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::context::{ArchiveConsumer, ArchiveContext};
use crate::ownership::Ownership;
use crate::run_loop::{self, Rolls};
use crate::upload::Uploader;
use crate::{ArchiverConfig, StartupError};

/// How often `/ready` asks the store whether it answers.
const STORE_PROBE_EVERY: Duration = Duration::from_secs(5);

/// An archiver with its clients built and its port bound, not yet consuming.
pub struct Application {
    listener: TcpListener,
    uploader: Uploader,
    config: ArchiverConfig,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("listener", &self.listener)
            .finish()
    }
}

impl Application {
    /// Checks the settings, creates missing topics, joins the consumer
    /// group and binds the ops port.
    pub async fn build(config: ArchiverConfig) -> Result<Self, StartupError> {
        crate::metrics_catalogue::register();
        config.check().map_err(StartupError::Config)?;
        let objects = orch_objects::Objects::connect(&config.objects)?;
        orch_kafka::ensure_topics(&config.kafka).await?;
        let ownership = Arc::new(Ownership::default());
        let context = ArchiveContext {
            ownership: ownership.clone(),
            revoke_wait: Duration::from_millis(config.revoke_wait_ms),
            tokens: config.kafka.security.tokens(),
        };
        let consumer: ArchiveConsumer = config
            .kafka
            .consumer_config("orch-archiver", &config.group_id)
            // Offsets are committed by the writer, one object at a time,
            // after the object and its manifest entry are stored.
            .set("enable.auto.commit", "false")
            .set("partition.assignment.strategy", "cooperative-sticky")
            // What librdkafka prefetches is memory too; keep it well under
            // the budget the loop enforces.
            .set("queued.max.messages.kbytes", "16384")
            .create_with_context(context)?;
        consumer.subscribe(&[&config.kafka.topics().dlq])?;
        let listener = TcpListener::bind(config.listen_addr).await?;
        tracing::info!(
            addr = %listener.local_addr()?,
            group = %config.group_id,
            bucket = objects.bucket(),
            "Archiver started."
        );
        Ok(Self {
            listener,
            uploader: Uploader {
                objects,
                consumer: Arc::new(consumer),
                ownership,
                retry_max: Duration::from_millis(config.retry_max_ms),
            },
            config,
        })
    }

    /// The bound ops address.
    pub fn local_addr(&self) -> SocketAddr {
        orch_http::bound_addr(&self.listener)
    }

    /// Archives until `shutdown`; then writes what is open and leaves the group.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let config = self.config;
        let background = CancellationToken::new();
        let store_reachable = {
            let objects = self.uploader.objects.clone();
            orch_http::Watched::spawn(STORE_PROBE_EVERY, background.clone(), move || {
                let objects = objects.clone();
                async move { objects.reachable().await }
            })
        };
        let http_stop = CancellationToken::new();
        let http = tokio::spawn(orch_http::serve(
            self.listener,
            crate::routes::router(store_reachable),
            config.http,
            http_stop.clone(),
        ));
        let rolls = Rolls {
            bytes: config.roll_bytes,
            after: config.roll_after(),
            max_buffered: config.max_buffered_bytes,
            shutdown_grace: Duration::from_millis(config.shutdown_grace_ms),
        };
        let consumer = self.uploader.consumer.clone();
        run_loop::run(config.kafka.topics().dlq, rolls, self.uploader, shutdown).await;
        consumer.unsubscribe();
        background.cancel();
        http_stop.cancel();
        http.await
            .map_err(|error| StartupError::Config(format!("HTTP task failed: {error}")))??;
        tracing::info!("Archiver stopped.");
        Ok(())
    }
}
