use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::consumer::DispatchConsumer;
use crate::context::DispatchContext;
use crate::controls::ControlTargets;
use crate::delivery::Deliverer;
use crate::enrich::Enricher;
use crate::gate::Gate;
use crate::graphql::{TargetClient, TargetSettings};
use crate::outcomes::OutcomeWriter;
use crate::pacer::Pacer;
use crate::routes::{self, OpsState};
use crate::share::{self, RateShare};
use crate::step::Budget;
use crate::tracker::SharedTracker;
use crate::{DispatcherConfig, StartupError, consumer};
use orch_kafka::Backoff;
use orch_kafka::ControlReader;

/// A dispatcher with its clients built and its port bound, not yet consuming.
pub struct Application {
    listener: TcpListener,
    consumer: DispatchConsumer,
    controls: ControlReader<ControlTargets>,
    metadata: orch_kafka::BaseConsumer,
    tracker: Arc<SharedTracker>,
    pacer: Arc<Pacer>,
    share: Arc<RateShare>,
    gate: Arc<Gate>,
    config: DispatcherConfig,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("listener", &self.listener)
            .finish()
    }
}

/// Refuses settings that cannot work, naming the variable.
fn check(config: &DispatcherConfig) -> Result<(), StartupError> {
    let refuse = |message: &str| Err(StartupError::Config(message.into()));
    if config.max_attempts == 0 {
        return refuse("DISPATCHER_MAX_ATTEMPTS must be at least 1");
    }
    if config.rate_limit_per_sec == 0 {
        return refuse("DISPATCHER_RATE_LIMIT_PER_SEC must be at least 1");
    }
    if config.breaker_failure_run == 0 {
        return refuse("DISPATCHER_BREAKER_FAILURE_RUN must be at least 1");
    }
    if config.breaker_probe_base_ms == 0
        || config.breaker_probe_max_ms < config.breaker_probe_base_ms
    {
        return refuse(
            "DISPATCHER_BREAKER_PROBE_BASE_MS must be at least 1 and at most DISPATCHER_BREAKER_PROBE_MAX_MS",
        );
    }
    if config.max_response_bytes < 1_024 {
        return refuse("DISPATCHER_MAX_RESPONSE_BYTES must be at least 1024");
    }
    Ok(())
}

impl Application {
    /// Creates missing topics, reads the delivery controls in force, joins
    /// the consumer group and binds the ops port.
    pub async fn build(config: DispatcherConfig) -> Result<Self, StartupError> {
        crate::metrics_catalogue::register();
        crate::supervise::install_panic_hook();
        check(&config)?;
        for risk in config.poll_interval_risks() {
            tracing::warn!(%risk, "Configuration could make the consumer leave its group.");
        }
        orch_kafka::ensure_topics(&config.kafka).await?;
        let tracker = Arc::new(SharedTracker::new(config.max_in_flight_per_partition));
        // No partitions yet, so no share: nothing is sent before the first assignment.
        let pacer = Arc::new(Pacer::new(0.0));
        let share = Arc::new(RateShare::new(config.rate_limit_per_sec, pacer.clone()));
        let gate = Arc::new(Gate::new(config.breaker()));
        let topic = config.kafka.topics().raw;
        let metadata: orch_kafka::BaseConsumer = config
            .kafka
            .client_config("orch-dispatcher-metadata")
            .create_with_context(config.kafka.auth_context())?;
        let controls = {
            let (kafka, targets) = (
                config.kafka.clone(),
                ControlTargets {
                    gate: gate.clone(),
                    share: share.clone(),
                },
            );
            tokio::task::spawn_blocking(move || {
                ControlReader::load(&kafka, "orch-dispatcher", targets)
            })
            .await
            .map_err(|error| StartupError::Config(format!("control reader failed: {error}")))??
        };
        let context = DispatchContext {
            tracker: tracker.clone(),
            share: share.clone(),
            topic: topic.clone(),
            tokens: config.kafka.security.tokens(),
        };
        let consumer = consumer::build(
            &config.kafka,
            &config.group_id,
            config.max_poll_interval_ms,
            context,
        )?;
        let listener = TcpListener::bind(config.listen_addr).await?;
        tracing::info!(addr = %listener.local_addr()?, group = %config.group_id, "Dispatcher started.");
        Ok(Self {
            listener,
            consumer,
            controls,
            metadata,
            tracker,
            pacer,
            share,
            gate,
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
        let background = CancellationToken::new();
        // The control follower runs on a blocking thread, which a runtime
        // waits for when it shuts down: it must stop even when this future
        // is dropped rather than run to its end.
        let _stop_background = background.clone().drop_guard();
        let controls = {
            let (reader, stop) = (self.controls, background.clone());
            tokio::task::spawn_blocking(move || reader.follow(&stop))
        };
        let refresh = tokio::spawn(share::refresh_partition_count(
            self.metadata,
            config.kafka.topics().raw,
            self.share.clone(),
            background.clone(),
        ));
        let outcomes = OutcomeWriter::new(&config.kafka)?;
        let deliverer = Arc::new(Deliverer {
            target: TargetClient::new(TargetSettings {
                url: config.target_url.clone(),
                token: config.target_token.clone(),
                timeout: config.request_timeout(),
                max_body_bytes: config.max_response_bytes,
                limits: config.limits(),
            })?,
            gate: self.gate.clone(),
            pacer: self.pacer,
            enricher: Enricher::new(orch_contracts::Brand::new(config.brand.clone())),
            outcomes: outcomes.clone(),
            backoff: Backoff {
                base: Duration::from_millis(config.backoff_base_ms),
                max: Duration::from_millis(config.backoff_max_ms),
            },
            budget: Budget {
                max_attempts: config.max_attempts,
                max_elapsed: Duration::from_millis(config.max_retry_elapsed_ms),
            },
            panic_id_prefix: config.test_panic_id_prefix.clone(),
        });
        let consuming = Arc::new(AtomicBool::new(true));
        let http_stop = CancellationToken::new();
        let http = tokio::spawn(orch_http::serve(
            self.listener,
            routes::router(OpsState {
                consuming: consuming.clone(),
                gate: self.gate,
                share: self.share,
                tracker: self.tracker.clone(),
            }),
            config.http,
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
        background.cancel();
        let _ = tokio::join!(controls, refresh);
        outcomes.flush(Duration::from_secs(10)).await;
        http_stop.cancel();
        if let Ok(Err(error)) = http.await {
            return Err(StartupError::Http(error));
        }
        tracing::info!("Dispatcher stopped.");
        Ok(())
    }
}
