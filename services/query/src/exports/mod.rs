//! Export jobs: a date range of events written as one NDJSON or CSV file in
//! object storage, handed out as a presigned URL. Jobs live in Postgres so
//! any replica can take the request and any replica can run the job.

pub(crate) mod format;
pub(crate) mod jobs;
pub(crate) mod request;
pub(crate) mod settings;
pub(crate) mod worker;

pub use settings::ExportSettings;

use object_store::signer::Signer;
use time::OffsetDateTime;

/// Export jobs' object store and settings: what the export routes and the
/// console need.
#[derive(Debug, Clone)]
pub(crate) struct Exports {
    pub(crate) objects: orch_objects::Objects,
    pub(crate) settings: ExportSettings,
}

impl Exports {
    /// The job's view, with a presigned URL valid until the job's expiry.
    pub(crate) async fn view(&self, job: &jobs::Job) -> jobs::JobView {
        let uri = match (&job.object_key, job.expires_at) {
            (Some(key), Some(expires_at)) if job.state == "finished" => {
                let left = expires_at - OffsetDateTime::now_utc();
                match std::time::Duration::try_from(left) {
                    Ok(left) if !left.is_zero() => self
                        .objects
                        .s3()
                        .signed_url(http::Method::GET, &key.as_str().into(), left)
                        .await
                        .map_err(|error| {
                            tracing::warn!(job = %job.id, error = %orch_telemetry::error_chain(&error), "Could not presign an export's URL.");
                        })
                        .ok()
                        .map(|url| url.to_string()),
                    _ => None,
                }
            }
            _ => None,
        };
        job.view(uri)
    }
}
