use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{Quota, RateLimiter};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::routes::{self, AppState};
use crate::store::Store;
use crate::{SandboxConfig, StartupError, schema};

/// A sandbox target with its port bound, not yet serving.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    config: SandboxConfig,
}

impl Application {
    /// Binds the listen address.
    pub async fn build(config: SandboxConfig) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(config.listen_addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "Sandbox target listening.");
        Ok(Self { listener, config })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        orch_http::bound_addr(&self.listener)
    }

    /// Serves until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let store = Arc::new(Store::default());
        let limiter = NonZeroU32::new(self.config.rate_limit_per_sec)
            .map(|rate| Arc::new(RateLimiter::direct(Quota::per_second(rate))));
        let state = AppState {
            schema: schema::build(store.clone()),
            store,
            limiter,
            token: self.config.token.map(Into::into),
        };
        orch_http::serve(self.listener, routes::router(state), shutdown).await?;
        Ok(())
    }
}
