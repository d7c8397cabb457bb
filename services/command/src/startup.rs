use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::publisher::Publisher;
use crate::spool::Spool;
use crate::state::AppState;
use crate::{CommandConfig, StartupError, forwarder, routes};

/// A command service with its topics ready and its port bound, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    topic: Arc<str>,
    http: orch_http::ServerLimits,
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
        crate::metrics_catalogue::register();
        // The command service must start while Kafka is down (the spool takes
        // events meanwhile), so missing topics are created in the background.
        let kafka_answered = match tokio::time::timeout(
            TOPIC_SETUP_WAIT,
            orch_kafka::ensure_topics(&config.kafka),
        )
        .await
        {
            Ok(Ok(())) => true,
            // Broken security settings or refused credentials are not an
            // outage the spool should ride out: every event would pile up
            // there. Refuse to start instead.
            Ok(Err(
                error @ (orch_kafka::TopicSetupError::Security(_)
                | orch_kafka::TopicSetupError::Authentication(_)),
            )) => {
                return Err(StartupError::KafkaRefused(error));
            }
            Ok(Err(error)) => {
                tracing::warn!(error = %orch_telemetry::error_chain(&error), "Could not prepare topics at start; retrying in the background.");
                tokio::spawn(ensure_topics_later(config.kafka.clone()));
                false
            }
            Err(_) => {
                tracing::warn!(
                    "Kafka did not answer at start; preparing topics in the background."
                );
                tokio::spawn(ensure_topics_later(config.kafka.clone()));
                false
            }
        };
        config
            .check_record_limits(None)
            .map_err(StartupError::Config)?;
        // Only when Kafka answered: during an outage the service must start at
        // once and take events into its spool.
        let topic_limit = if kafka_answered {
            tokio::time::timeout(
                TOPIC_SETUP_WAIT,
                orch_kafka::topic_max_message_bytes(&config.kafka, &config.kafka.topics().raw),
            )
            .await
            .ok()
            .flatten()
        } else {
            None
        };
        match topic_limit {
            Some(limit) => config
                .check_record_limits(Some(limit))
                .map_err(StartupError::Config)?,
            None => tracing::warn!(
                "Could not read the raw topic's max.message.bytes; only the producer's limit was checked against COMMAND_MAX_BODY_BYTES."
            ),
        }
        let spool = Spool::open(
            &config.spool_dir,
            config.spool_max_bytes,
            config.spool_segment_bytes,
            config.max_record_bytes(),
        )?;
        let publisher = Publisher::new(&config.kafka, config.publisher_settings(), spool.clone())
            .map_err(StartupError::Producer)?;
        let listener = TcpListener::bind(config.listen_addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "Command service listening.");
        let raw_topic: Arc<str> = config.kafka.topics().raw.into();
        Ok(Self {
            listener,
            http: config.http,
            topic: raw_topic.clone(),
            state: AppState {
                publisher,
                spool,
                source_keys: config.source_key_hashes,
                max_body_bytes: config.max_body_bytes,
                request_deadline: Duration::from_millis(config.request_deadline_ms),
                status_base_url: config.status_base_url.into(),
                raw_topic,
                kafka_reachable: orch_http::Watched::default(),
            },
        })
    }

    /// The bound address (useful when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        orch_http::bound_addr(&self.listener)
    }

    /// Serves until `shutdown`, then lets requests finish and flushes the producer
    /// so nothing acknowledged to a client is left only in memory.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let publisher = self.state.publisher.clone();
        let spool = self.state.spool.clone();
        let background = CancellationToken::new();
        self.state.kafka_reachable = {
            let publisher = publisher.clone();
            orch_http::Watched::spawn(BROKER_PROBE_EVERY, background.clone(), move || {
                let publisher = publisher.clone();
                async move { publisher.broker_reachable().await }
            })
        };
        let forwarder = tokio::spawn(forwarder::run(
            spool.clone(),
            publisher.producer().clone(),
            self.topic.clone(),
            background.clone(),
        ));
        tokio::spawn(report_spool(spool, background.clone()));
        let served = orch_http::serve(
            self.listener,
            routes::router(self.state),
            self.http,
            shutdown,
        )
        .await;
        // Every request answered 202 is now in Kafka or fsync'd in the spool;
        // flush what the producer still holds, then stop forwarding.
        if let Err(error) = publisher.flush(Duration::from_secs(10)).await {
            tracing::warn!(error = %orch_telemetry::error_chain(&error), "Producer flush at shutdown did not finish; the spool holds what it did not send.");
        }
        background.cancel();
        let _ = forwarder.await;
        served?;
        tracing::info!("Command service stopped.");
        Ok(())
    }
}

/// How long start-up waits for topic creation before going on without it.
const TOPIC_SETUP_WAIT: Duration = Duration::from_secs(5);

/// Waits between attempts to create the topics in the background.
const TOPIC_RETRY: orch_kafka::Backoff = orch_kafka::Backoff {
    base: Duration::from_secs(1),
    max: Duration::from_secs(30),
};

async fn ensure_topics_later(kafka: orch_kafka::KafkaConfig) {
    let mut retries = TOPIC_RETRY.retries();
    loop {
        tokio::time::sleep(retries.failed()).await;
        match tokio::time::timeout(TOPIC_SETUP_WAIT, orch_kafka::ensure_topics(&kafka)).await {
            Ok(Ok(())) => {
                tracing::info!("Topics are ready.");
                return;
            }
            Ok(Err(error)) => {
                tracing::warn!(error = %orch_telemetry::error_chain(&error), "Topics still not ready; retrying.")
            }
            Err(_) => tracing::warn!("Kafka still does not answer; retrying topic set-up."),
        }
    }
}

/// Publishes the spool's figures as gauges once a second.
async fn report_spool(spool: Spool, stop: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let stats = spool.stats();
        metrics::gauge!("orch_spool_depth_records").set(stats.depth as f64);
        metrics::gauge!("orch_spool_bytes").set(stats.bytes as f64);
        metrics::gauge!("orch_spool_oldest_age_seconds").set(stats.oldest_age_ms as f64 / 1000.0);
        metrics::gauge!("orch_spool_healthy").set(if stats.healthy { 1.0 } else { 0.0 });
    }
}

/// How often `/ready`'s view of the broker is refreshed.
const BROKER_PROBE_EVERY: Duration = Duration::from_secs(1);
