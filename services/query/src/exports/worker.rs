//! The export worker: claims a job, reads its rows a keyset page at a time
//! and streams them into a multipart upload, so memory stays a few parts
//! and one page's formatted bytes whatever the export's size. Progress
//! (rows, bytes) and the lease are renewed after every page; a worker that
//! finds its job taken over stops and abandons its upload.

use std::time::{Duration, Instant};

use object_store::{Attribute, Attributes, ObjectStore, PutMultipartOptions, WriteMultipart};
use orch_objects::{ObjectPath, Objects};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::format::Format;
use super::jobs::{self, Job};
use super::settings::ExportSettings;
use crate::db;

/// How often an idle worker looks for a job.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// Parts uploading at once per job: one, so a job holds about three parts
/// (filling, uploading, its request body); the store is rarely the slow side.
const PARTS_IN_FLIGHT: usize = 1;

/// What a worker needs.
#[derive(Debug, Clone)]
pub(crate) struct Worker {
    pub(crate) pool: PgPool,
    pub(crate) objects: Objects,
    pub(crate) settings: ExportSettings,
    /// This worker's name in the job table (replica and number).
    pub(crate) name: String,
}

/// Why a run ended without finishing.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("reading the read model failed")]
    Database(#[from] sqlx::Error),
    #[error("writing the export file failed")]
    Store(#[from] object_store::Error),
    #[error("another worker took the job over")]
    TakenOver,
    #[error("the service is shutting down")]
    Stopping,
}

/// The export file's key for a job.
pub(crate) fn object_key(objects: &Objects, job: &Job) -> ObjectPath {
    let format = Format::parse(&job.format).unwrap_or(Format::Ndjson);
    objects.key(&format!("exports/{}.{}", job.id, format.as_str()))
}

impl Worker {
    /// Runs jobs until `stop`.
    pub(crate) async fn run(self, stop: CancellationToken) {
        let lease = self.settings.lease();
        while !stop.is_cancelled() {
            match jobs::fail_abandoned(&self.pool, lease).await {
                Ok(0) => {}
                Ok(failed) => {
                    metrics::counter!("orch_export_jobs_failed_total").increment(failed);
                    tracing::warn!(
                        failed,
                        "Export jobs failed: their worker stopped answering twice."
                    );
                }
                Err(error) => {
                    tracing::warn!(error = %orch_telemetry::error_chain(&error), "Could not check for abandoned export jobs.")
                }
            }
            match jobs::claim(&self.pool, &self.name, lease).await {
                Ok(Some(job)) => self.run_job(job, &stop).await,
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(error = %orch_telemetry::error_chain(&error), "Could not claim an export job.")
                }
            }
            tokio::select! {
                () = stop.cancelled() => {}
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
        }
    }

    async fn run_job(&self, job: Job, stop: &CancellationToken) {
        let started = Instant::now();
        tracing::info!(job = %job.id, attempt = job.attempts, "Export started.");
        let key = object_key(&self.objects, &job);
        let result = self.write_file(&job, &key, stop).await;
        let outcome = match result {
            Ok((rows, bytes)) => {
                let expires_at = OffsetDateTime::now_utc() + self.settings.url_expiry();
                match jobs::finish(
                    &self.pool,
                    &job,
                    &self.name,
                    (rows, bytes),
                    key.as_ref(),
                    expires_at,
                )
                .await
                {
                    Ok(true) => {
                        metrics::counter!("orch_export_rows_total").increment(rows as u64);
                        tracing::info!(job = %job.id, rows, bytes, seconds = started.elapsed().as_secs_f64(), "Export finished.");
                        "finished"
                    }
                    Ok(false) => "taken_over",
                    Err(error) => {
                        tracing::warn!(job = %job.id, error = %orch_telemetry::error_chain(&error), "Could not record a finished export; it will be retried.");
                        "failed"
                    }
                }
            }
            Err(RunError::TakenOver) => {
                tracing::warn!(job = %job.id, "Export taken over by another worker (this one was too slow to report).");
                "taken_over"
            }
            Err(RunError::Stopping) => {
                if let Err(error) = jobs::hand_back(&self.pool, &job, &self.name).await {
                    tracing::warn!(job = %job.id, error = %orch_telemetry::error_chain(&error), "Could not hand an export back at shutdown; it is taken over after the lease.");
                }
                "handed_back"
            }
            Err(error) => {
                let reason = orch_telemetry::error_chain(&error);
                tracing::warn!(job = %job.id, attempt = job.attempts, %reason, "Export failed.");
                if let Err(error) =
                    jobs::release_failed(&self.pool, &job, &self.name, &reason).await
                {
                    tracing::warn!(job = %job.id, error = %orch_telemetry::error_chain(&error), "Could not record an export's failure; it is taken over after the lease.");
                }
                "failed"
            }
        };
        metrics::counter!("orch_export_jobs_total", "outcome" => outcome).increment(1);
    }

    /// Writes the whole file; (rows, bytes) on success.
    async fn write_file(
        &self,
        job: &Job,
        key: &ObjectPath,
        stop: &CancellationToken,
    ) -> Result<(i64, i64), RunError> {
        let format = Format::parse(&job.format).unwrap_or(Format::Ndjson);
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, format.content_type().into());
        let upload = self
            .objects
            .s3()
            .put_multipart_opts(
                key,
                PutMultipartOptions {
                    attributes,
                    ..PutMultipartOptions::default()
                },
            )
            .await?;
        let mut file = WriteMultipart::new_with_chunk_size(upload, self.settings.export_part_bytes);
        match self.write_rows(job, format, &mut file, stop).await {
            Ok(progress) => {
                file.finish().await?;
                Ok(progress)
            }
            Err(error) => {
                // An unfinished upload holds parts; abort it (the bucket's
                // lifecycle rule removes any an abort could not reach).
                let _ = file.abort().await;
                Err(error)
            }
        }
    }

    async fn write_rows(
        &self,
        job: &Job,
        format: Format,
        file: &mut WriteMultipart,
        stop: &CancellationToken,
    ) -> Result<(i64, i64), RunError> {
        let header = format.start();
        let (mut rows, mut bytes) = (0i64, header.len() as i64);
        file.write(&header);
        let mut after: Option<(OffsetDateTime, String)> = None;
        let mut page_bytes = Vec::new();
        loop {
            if stop.is_cancelled() {
                return Err(RunError::Stopping);
            }
            page_bytes.clear();
            let (read, last) = db::export_page(
                &self.pool,
                (job.from_at, job.to_at),
                job.status_filter.as_deref(),
                after.as_ref(),
                i64::from(self.settings.export_page_rows),
                |event| format.write(event, &mut page_bytes),
            )
            .await?;
            if read == 0 {
                break;
            }
            after = last;
            // Bounded memory: wait for parts in flight before adding more.
            file.wait_for_capacity(PARTS_IN_FLIGHT).await?;
            file.write(&page_bytes);
            rows += read as i64;
            bytes += page_bytes.len() as i64;
            if !jobs::heartbeat(&self.pool, job, &self.name, rows, bytes).await? {
                return Err(RunError::TakenOver);
            }
            if read < self.settings.export_page_rows as usize || after.is_none() {
                break;
            }
        }
        Ok((rows, bytes))
    }
}
