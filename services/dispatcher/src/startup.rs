use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::consumer::DispatchConsumer;
use crate::context::DispatchContext;
use crate::delivery::Deliverer;
use crate::enrich::Enricher;
use crate::graphql::TargetClient;
use crate::outcomes::OutcomeWriter;
use crate::pacer::Pacer;
use crate::tracker::Tracker;
use crate::{DispatcherConfig, StartupError, consumer, ops};

/// A dispatcher with its clients built and its port bound, not yet consuming.
pub struct Application {
    listener: TcpListener,
    consumer: DispatchConsumer,
    tracker: Arc<Mutex<Tracker>>,
    pacer: Arc<Pacer>,
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
        crate::metrics_catalogue::register();
        if config.max_attempts == 0 {
            return Err(StartupError::Config(
                "DISPATCHER_MAX_ATTEMPTS must be at least 1".into(),
            ));
        }
        if config.rate_limit_per_sec == 0 {
            return Err(StartupError::Config(
                "DISPATCHER_RATE_LIMIT_PER_SEC must be at least 1".into(),
            ));
        }
        for risk in config.poll_interval_risks() {
            tracing::warn!(%risk, "Configuration could make the consumer leave its group.");
        }
        orch_kafka::ensure_topics(&config.kafka).await?;
        let tracker = Arc::new(Mutex::new(Tracker::new(config.max_in_flight_per_partition)));
        // No partitions yet, so no share: nothing is sent before the first assignment.
        let pacer = Arc::new(Pacer::new(0.0));
        let context = DispatchContext {
            tracker: tracker.clone(),
            pacer: pacer.clone(),
            group_rate: f64::from(config.rate_limit_per_sec),
            topic: config.kafka.topics().raw,
            tokens: config.kafka.security.tokens(),
        };
        let consumer = consumer::build(&config, context)?;
        let listener = TcpListener::bind(config.listen_addr).await?;
        tracing::info!(addr = %listener.local_addr()?, group = %config.group_id, "Dispatcher started.");
        Ok(Self {
            listener,
            consumer,
            tracker,
            pacer,
            config,
        })
    }

    /// The bound ops address.
    pub fn local_addr(&self) -> SocketAddr {
        orch_http::bound_addr(&self.listener)
    }

    /// Consumes and delivers until `shutdown`; then finishes or abandons
    /// in-flight work, commits and leaves the group.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let config = self.config;
        let outcomes = OutcomeWriter::new(&config)?;
        let deliverer = Arc::new(Deliverer {
            target: TargetClient::new(
                &config.target_url,
                config.target_token.clone(),
                config.request_timeout(),
            )?,
            pacer: self.pacer,
            enricher: Enricher::new(config.brand.clone()),
            outcomes: outcomes.clone(),
            backoff: Backoff {
                base: Duration::from_millis(config.backoff_base_ms),
                max: Duration::from_millis(config.backoff_max_ms),
            },
            max_attempts: config.max_attempts,
            max_elapsed: Duration::from_millis(config.max_retry_elapsed_ms),
        });
        let consuming = Arc::new(AtomicBool::new(true));
        let http_stop = CancellationToken::new();
        let http = tokio::spawn(orch_http::serve(
            self.listener,
            ops::router(consuming.clone()),
            http_stop.clone(),
        ));
        consumer::run(
            self.consumer,
            self.tracker,
            deliverer,
            Duration::from_millis(config.shutdown_grace_ms),
            shutdown,
        )
        .await;
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
