use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, RetryConfig};
use secrecy::{ExposeSecret, SecretString};

/// Where objects go. Credentials, region and endpoint are not here: the S3
/// client reads the usual AWS variables itself (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
/// `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, and on EKS the IRSA pair
/// `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`), so no secret passes
/// through our configuration.
#[derive(Debug, Clone, clap::Args)]
pub struct ObjectStoreConfig {
    /// The bucket that holds the DLQ archive and the export files; unset,
    /// what needs it is off (the archiver refuses to start).
    #[arg(long = "object-store-bucket", env = "OBJECT_STORE_BUCKET")]
    pub bucket: Option<String>,
    /// Key prefix for everything written (no leading or trailing `/`; empty for none).
    #[arg(
        long = "object-store-prefix",
        env = "OBJECT_STORE_PREFIX",
        default_value = "orchestrator"
    )]
    pub prefix: String,
    /// Seconds one request to the store may take before it is retried.
    #[arg(
        long = "object-store-timeout-secs",
        env = "OBJECT_STORE_TIMEOUT_SECS",
        default_value_t = 60
    )]
    pub timeout_secs: u64,

    /// An explicit store, set by tests and tools in code (never from the
    /// environment): unset, the AWS variables decide.
    #[arg(skip)]
    pub endpoint: Option<Endpoint>,
}

/// A store reached with explicit settings rather than the AWS variables.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// Its URL, `http://host:port`.
    pub url: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key. Never logged.
    pub secret_access_key: SecretString,
}

/// The local store's access key id (`dev/object-store`; local only).
pub const LOCAL_ACCESS_KEY_ID: &str = "orchestrator-dev";
/// The local store's secret key (`dev/object-store`; local only).
pub const LOCAL_SECRET_ACCESS_KEY: &str = "orchestrator-dev-secret";

impl Endpoint {
    /// The local store at `url` with the local demo credentials.
    pub fn local(url: &str) -> Self {
        Self {
            url: url.into(),
            access_key_id: LOCAL_ACCESS_KEY_ID.into(),
            secret_access_key: LOCAL_SECRET_ACCESS_KEY.to_owned().into(),
        }
    }

    /// The AWS variables that make another process reach this store.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", self.access_key_id.clone()),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.secret_access_key.expose_secret().to_owned(),
            ),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }
}

impl Default for ObjectStoreConfig {
    /// No bucket, and the documented defaults.
    fn default() -> Self {
        Self {
            bucket: None,
            prefix: "orchestrator".into(),
            timeout_secs: 60,
            endpoint: None,
        }
    }
}

impl ObjectStoreConfig {
    /// A bucket in the store at `endpoint`.
    pub fn local(bucket: &str, prefix: &str, endpoint: Endpoint) -> Self {
        Self {
            bucket: Some(bucket.into()),
            prefix: prefix.into(),
            timeout_secs: 60,
            endpoint: Some(endpoint),
        }
    }
}

/// Why the object store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    /// A setting is unusable; the message names it.
    #[error("{0}")]
    Config(String),
    /// The store refused or failed a request.
    #[error("object store request failed")]
    Store(#[from] object_store::Error),
}

/// An S3 client for one bucket, and the prefix everything of ours lives under.
#[derive(Debug, Clone)]
pub struct Objects {
    s3: Arc<AmazonS3>,
    prefix: Path,
    bucket: String,
}

impl Objects {
    /// Builds the client from `config` and the AWS variables; makes no request.
    pub fn connect(config: &ObjectStoreConfig) -> Result<Self, ObjectsError> {
        let bucket = config
            .bucket
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| ObjectsError::Config("OBJECT_STORE_BUCKET must name a bucket".into()))?;
        if config.prefix.starts_with('/') || config.prefix.ends_with('/') {
            return Err(ObjectsError::Config(format!(
                "OBJECT_STORE_PREFIX {:?} must not start or end with '/'",
                config.prefix
            )));
        }
        let prefix = Path::parse(&config.prefix).map_err(|error| {
            ObjectsError::Config(format!("OBJECT_STORE_PREFIX is not a valid key: {error}"))
        })?;
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        // Timeouts go in as settings: replacing the client options would drop
        // AWS_ALLOW_HTTP and the like that `from_env` read.
        let mut builder = AmazonS3Builder::from_env()
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                format!("{}s", timeout.as_secs()),
            )
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                "5s",
            );
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(&endpoint.url)
                .with_access_key_id(&endpoint.access_key_id)
                .with_secret_access_key(endpoint.secret_access_key.expose_secret())
                .with_region("us-east-1")
                .with_allow_http(endpoint.url.starts_with("http://"));
        }
        let s3 = builder
            .with_bucket_name(bucket)
            // Callers retry whole steps themselves (with their own metrics),
            // so the client's own retries stay short.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: timeout,
            })
            .build()?;
        Ok(Self {
            s3: Arc::new(s3),
            prefix,
            bucket: bucket.to_owned(),
        })
    }

    /// The S3 client.
    pub fn s3(&self) -> &Arc<AmazonS3> {
        &self.s3
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `<prefix>/<rest>`: a key under our prefix.
    pub fn key(&self, rest: &str) -> Path {
        let rest = Path::from_iter(rest.split('/').filter(|part| !part.is_empty()));
        self.prefix.parts().chain(rest.parts()).collect()
    }

    /// Whether the bucket answers a listing: the readiness probe.
    pub async fn reachable(&self) -> bool {
        self.s3
            .list_with_delimiter(Some(&self.prefix))
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_join_prefix_and_rest() {
        let objects = Objects::connect(&ObjectStoreConfig::local(
            "b",
            "env/orch",
            Endpoint::local("http://127.0.0.1:1"),
        ))
        .unwrap();
        assert_eq!(
            objects.key("dlq/_manifest/x.json").as_ref(),
            "env/orch/dlq/_manifest/x.json"
        );
        let bare = Objects::connect(&ObjectStoreConfig::local(
            "b",
            "",
            Endpoint::local("http://127.0.0.1:1"),
        ))
        .unwrap();
        assert_eq!(bare.key("exports/1.csv").as_ref(), "exports/1.csv");
    }

    #[test]
    fn bad_settings_are_named() {
        let error = Objects::connect(&ObjectStoreConfig::local(
            "b",
            "/x",
            Endpoint::local("http://127.0.0.1:1"),
        ))
        .unwrap_err();
        assert!(error.to_string().contains("OBJECT_STORE_PREFIX"), "{error}");
        let error = Objects::connect(&ObjectStoreConfig::local(
            " ",
            "x",
            Endpoint::local("http://127.0.0.1:1"),
        ))
        .unwrap_err();
        assert!(error.to_string().contains("OBJECT_STORE_BUCKET"), "{error}");
    }

    #[test]
    fn debug_never_prints_the_secret_key() {
        let config = ObjectStoreConfig::local("b", "", Endpoint::local("http://127.0.0.1:1"));
        assert!(!format!("{config:?}").contains(LOCAL_SECRET_ACCESS_KEY));
    }
}
