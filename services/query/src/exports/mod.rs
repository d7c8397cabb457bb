//! Export jobs: a date range of events written as one NDJSON or CSV file in
//! object storage, handed out as a presigned URL. Jobs live in Postgres so
//! any replica can take the request and any replica can run the job.

pub(crate) mod format;
pub(crate) mod jobs;
pub(crate) mod request;
pub(crate) mod settings;
pub(crate) mod worker;

pub use settings::ExportSettings;
