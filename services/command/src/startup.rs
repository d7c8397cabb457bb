use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use orch_http::ApiKeys;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::publisher::Publisher;
use crate::{CommandConfig, StartupError, routes};

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) publisher: Publisher,
    pub(crate) source_keys: ApiKeys,
    pub(crate) max_body_bytes: usize,
    pub(crate) status_base_url: Arc<str>,
}

/// A command service with its topics ready and its port bound, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("listener", &self.listener)
            .finish()
    }
}

impl Application {
    /// Creates missing topics, builds the producer and binds the listen address.
    pub async fn build(config: CommandConfig) -> Result<Self, StartupError> {
        orch_kafka::ensure_topics(&config.kafka).await?;
        let publisher = Publisher::new(&config).map_err(StartupError::Producer)?;
        let listener = TcpListener::bind(config.listen_addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "Command service listening.");
        Ok(Self {
            listener,
            state: AppState {
                publisher,
                source_keys: config.source_key_hashes,
                max_body_bytes: config.max_body_bytes,
                status_base_url: config.status_base_url.into(),
            },
        })
    }

    /// The bound address (useful when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        orch_http::bound_addr(&self.listener)
    }

    /// Serves until `shutdown`, then lets requests finish and flushes the producer
    /// so nothing acknowledged to a client is left only in memory.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let publisher = self.state.publisher.clone();
        orch_http::serve(self.listener, routes::router(self.state), shutdown).await?;
        if let Err(error) = publisher.flush(Duration::from_secs(10)).await {
            tracing::error!(%error, "Producer flush at shutdown failed.");
        }
        tracing::info!("Command service stopped.");
        Ok(())
    }
}
