use std::net::SocketAddr;
use std::time::Duration;

use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use std::sync::Arc;

use crate::console::ConsoleState;
use crate::exports::Exports;
use crate::exports::worker::Worker;
use crate::state::AppState;
use crate::{QueryConfig, StartupError, db, projector, routes};

/// A query service with its schema migrated, consumer subscribed and port bound.
pub struct Application {
    listener: TcpListener,
    consumer: projector::ProjectorConsumer,
    pool: PgPool,
    exports: Option<Exports>,
    config: QueryConfig,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("listener", &self.listener)
            .finish()
    }
}

impl Application {
    /// Connects and migrates the database, creates missing topics, subscribes
    /// the projector and binds the listen address.
    pub async fn build(config: QueryConfig) -> Result<Self, StartupError> {
        crate::metrics_catalogue::register();
        config.exports.check().map_err(StartupError::Config)?;
        let exports = match config.objects.bucket {
            Some(_) => Some(Exports {
                objects: orch_objects::Objects::connect(&config.objects)?,
                settings: config.exports,
            }),
            None => {
                tracing::info!(
                    "No OBJECT_STORE_BUCKET: exports are off (POST /exports answers 503)."
                );
                None
            }
        };
        let pool = db::connect(&config.database_url, config.db_max_connections).await?;
        db::migrate(&pool).await?;
        orch_kafka::ensure_topics(&config.kafka).await?;
        let consumer = projector::build(&config.kafka, &config.group_id)?;
        let listener = TcpListener::bind(config.listen_addr).await?;
        tracing::info!(addr = %listener.local_addr()?, "Query service listening.");
        Ok(Self {
            listener,
            consumer,
            pool,
            exports,
            config,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        orch_http::bound_addr(&self.listener)
    }

    /// Projects and serves until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StartupError> {
        let projector = tokio::spawn(projector::run(
            self.consumer,
            self.pool.clone(),
            self.config.kafka.topics(),
            projector::Batching {
                max: self.config.batch_max.max(1),
                wait: Duration::from_millis(self.config.batch_wait_ms),
                buffer_bytes: self
                    .config
                    .writer_buffer_bytes
                    .clamp(64 * 1024, u32::MAX as usize),
            },
            self.config.writers,
            shutdown.clone(),
        ));
        let background = CancellationToken::new();
        // The control follower runs on a blocking thread, which a runtime
        // waits for when it shuts down: it must stop even when this future
        // is dropped rather than run to its end.
        let _stop_background = background.clone().drop_guard();
        let mut workers = Vec::new();
        if let Some(exports) = &self.exports {
            let replica = uuid::Uuid::new_v4().simple().to_string();
            for n in 0..exports.settings.export_workers {
                let worker = Worker {
                    pool: self.pool.clone(),
                    objects: exports.objects.clone(),
                    settings: exports.settings,
                    name: format!("{}-{n}", &replica[..12]),
                };
                workers.push(tokio::spawn(worker.run(shutdown.clone())));
            }
        }
        let database_reachable = {
            let pool = self.pool.clone();
            orch_http::Watched::spawn(DATABASE_PROBE_EVERY, background.clone(), move || {
                let pool = pool.clone();
                async move { sqlx::query("SELECT 1").execute(&pool).await.is_ok() }
            })
        };
        let console = Arc::new(
            ConsoleState::new(self.config.console.clone(), &self.config.kafka)
                .map_err(StartupError::from)?,
        );
        let sampler = tokio::spawn(console.probe.clone().run(
            self.pool.clone(),
            self.config.kafka.clone(),
            console.config.dispatcher_group_id.clone(),
            self.config.group_id.clone(),
            background.clone(),
        ));
        let overdue = crate::overdue::start(
            &self.config.overdue,
            &self.config.kafka,
            self.pool.clone(),
            console.producer.clone(),
            background.clone(),
        )
        .await?;
        let state = AppState {
            overdue: overdue.clock.clone(),
            database_reachable,
            pool: self.pool,
            reader_keys: self.config.reader_key_hashes,
            trace_link: self.config.trace_url_template,
            exports: self.exports,
            console,
        };
        let served = orch_http::serve(
            self.listener,
            routes::router(state),
            self.config.http,
            shutdown,
        )
        .await;
        background.cancel();
        let _ = sampler.await;
        let _ = tokio::join!(overdue.follower, overdue.sweeper);
        for worker in workers {
            if worker.await.is_err() {
                tracing::error!("An export worker panicked.");
            }
        }
        if projector.await.is_err() {
            tracing::error!("The projector task panicked.");
        }
        tracing::info!("Query service stopped.");
        Ok(served?)
    }
}

/// How often `/ready`'s view of the database is refreshed.
const DATABASE_PROBE_EVERY: Duration = Duration::from_secs(1);
