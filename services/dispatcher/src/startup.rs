use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use governor::{Quota, RateLimiter};
use rdkafka::consumer::StreamConsumer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::delivery::Deliverer;
use crate::enrich::Enricher;
use crate::graphql::TargetClient;
use crate::outcomes::OutcomeWriter;
use crate::{DispatcherConfig, StartupError, consumer, ops};

/// A dispatcher with its clients built and its port bound, not yet consuming.
pub struct Application {
    listener: TcpListener,
    consumer: StreamConsumer,
    config: DispatcherConfig,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("listener", &self.listener)
            .finish()
    }
}

impl Application {
    /// Creates missing topics, joins the consumer group and binds the ops port.
    pub async fn build(config: DispatcherConfig) -> Result<Self, StartupError> {
        if config.max_attempts == 0 {
            return Err(StartupError::Config(
                "DISPATCHER_MAX_ATTEMPTS must be at least 1".into(),
            ));
        }
        orch_kafka::ensure_topics(&config.kafka).await?;
        let consumer = consumer::build(&config)?;
        let listener = TcpListener::bind(config.listen_addr).await?;
        tracing::info!(addr = %listener.local_addr()?, group = %config.group_id, "Dispatcher started.");
        Ok(Self {
            listener,
            consumer,
            config,
        })
    }

    /// The bound ops address.
    pub fn local_addr(&self) -> SocketAddr {
        orch_http::bound_addr(&self.listener)
    }

    /// Consumes and delivers until `shutdown`; then commits and leaves the group.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let config = self.config;
        let rate = NonZeroU32::new(config.rate_limit_per_sec).ok_or_else(|| {
            StartupError::Config("DISPATCHER_RATE_LIMIT_PER_SEC must be at least 1".into())
        })?;
        // A burst of one spaces requests evenly, so no window ever exceeds the rate.
        let limiter = Arc::new(RateLimiter::direct(
            Quota::per_second(rate).allow_burst(NonZeroU32::MIN),
        ));
        let outcomes = OutcomeWriter::new(&config)?;
        let deliverer = Deliverer {
            target: TargetClient::new(
                config.target_url.clone(),
                config.target_token.clone(),
                config.request_timeout(),
            )?,
            limiter,
            enricher: Enricher::new(config.brand.clone()),
            outcomes: outcomes.clone(),
            backoff: Backoff {
                base: Duration::from_millis(config.backoff_base_ms),
                max: Duration::from_millis(config.backoff_max_ms),
            },
            max_attempts: config.max_attempts,
            shutdown: shutdown.clone(),
        };
        let consuming = Arc::new(AtomicBool::new(true));
        let http_stop = CancellationToken::new();
        let http = tokio::spawn(orch_http::serve(
            self.listener,
            ops::router(consuming.clone()),
            http_stop.clone(),
        ));
        consumer::run(self.consumer, deliverer, shutdown).await;
        consuming.store(false, Ordering::Relaxed);
        outcomes.flush(Duration::from_secs(10)).await;
        http_stop.cancel();
        if let Ok(Err(error)) = http.await {
            return Err(StartupError::Http(error));
        }
        tracing::info!("Dispatcher stopped.");
        Ok(())
    }
}
