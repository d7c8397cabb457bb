use std::time::Duration;

/// How export jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct ExportSettings {
    /// Widest `to - from` one export may span, in days.
    #[arg(long, env = "QUERY_EXPORT_MAX_RANGE_DAYS", default_value_t = 31)]
    pub export_max_range_days: u32,

    /// How long an export's presigned URL (and so the export) stays usable.
    #[arg(long, env = "QUERY_EXPORT_URL_EXPIRY_SECS", default_value_t = 3_600)]
    pub export_url_expiry_secs: u64,

    /// Jobs this replica runs at once; 0 runs none here (others do).
    #[arg(long, env = "QUERY_EXPORT_WORKERS", default_value_t = 1)]
    pub export_workers: usize,

    /// A started job whose worker has not reported for this long is taken
    /// over by another worker (once; the second time it fails).
    #[arg(long, env = "QUERY_EXPORT_LEASE_SECS", default_value_t = 60)]
    pub export_lease_secs: u64,

    /// Rows read from Postgres per keyset page.
    #[arg(long, env = "QUERY_EXPORT_PAGE_ROWS", default_value_t = 2_000)]
    pub export_page_rows: u32,

    /// Size of each multipart upload part (S3's minimum is 5 MiB); memory
    /// per running job is about three parts (one filling, one uploading
    /// and its request body).
    #[arg(long, env = "QUERY_EXPORT_PART_BYTES", default_value_t = 5 * 1024 * 1024)]
    pub export_part_bytes: usize,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            export_max_range_days: 31,
            export_url_expiry_secs: 3_600,
            export_workers: 1,
            export_lease_secs: 60,
            export_page_rows: 2_000,
            export_part_bytes: 5 * 1024 * 1024,
        }
    }
}

impl ExportSettings {
    /// Refuses settings that cannot work, naming the variable.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.export_part_bytes < 5 * 1024 * 1024 {
            return Err(
                "QUERY_EXPORT_PART_BYTES must be at least 5 MiB (S3's minimum part)".into(),
            );
        }
        if self.export_page_rows == 0 || self.export_page_rows > 100_000 {
            return Err("QUERY_EXPORT_PAGE_ROWS must be between 1 and 100000".into());
        }
        if self.export_lease_secs < 5 {
            return Err("QUERY_EXPORT_LEASE_SECS must be at least 5".into());
        }
        // SigV4 presigned URLs live at most 7 days.
        if self.export_url_expiry_secs == 0 || self.export_url_expiry_secs > 7 * 24 * 3_600 {
            return Err(
                "QUERY_EXPORT_URL_EXPIRY_SECS must be between 1 and 604800 (7 days)".into(),
            );
        }
        if self.export_max_range_days == 0 {
            return Err("QUERY_EXPORT_MAX_RANGE_DAYS must be at least 1".into());
        }
        Ok(())
    }

    pub(crate) fn lease(&self) -> Duration {
        Duration::from_secs(self.export_lease_secs)
    }

    pub(crate) fn url_expiry(&self) -> Duration {
        Duration::from_secs(self.export_url_expiry_secs)
    }
}
