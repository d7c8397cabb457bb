use parking_lot::RwLock;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{Quota, RateLimiter};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::routes::{self, AppState};
use crate::store::Store;
use crate::{SandboxConfig, StartupError, schema};

/// A sandbox target with its port bound and its items loaded, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    store: Arc<Store>,
    config: SandboxConfig,
}

impl Application {
    /// Loads persisted items and binds the listen address.
    pub async fn build(config: SandboxConfig) -> Result<Self, StartupError> {
        let window = Duration::from_millis(config.window_ms.max(1));
        let store = Arc::new(Store::open(config.data_file.as_deref(), window)?);
        let listener = TcpListener::bind(config.listen_addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "Sandbox target listening.");
        Ok(Self {
            listener,
            store,
            config,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        orch_http::bound_addr(&self.listener)
    }

    /// Serves until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        // A token bucket of `burst` tokens refilled at the rate (GCRA is its
        // exact equivalent).
        let limiter = NonZeroU32::new(self.config.rate_limit_per_sec).map(|rate| {
            let burst = NonZeroU32::new(self.config.rate_limit_burst).unwrap_or(rate);
            Arc::new(RateLimiter::direct(
                Quota::per_second(rate).allow_burst(burst),
            ))
        });
        let state = AppState {
            schema: schema::build(self.store.clone()),
            store: self.store,
            limiter,
            limit_mode: self.config.rate_limit_mode,
            faults: Arc::new(RwLock::new(self.config.faults)),
            token: self.config.token,
            received: Arc::default(),
            shutdown: shutdown.clone(),
        };
        orch_http::serve(
            self.listener,
            routes::router(state),
            self.config.http,
            shutdown,
        )
        .await?;
        Ok(())
    }
}
