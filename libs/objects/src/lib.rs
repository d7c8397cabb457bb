//! Object storage for the Orchestrator: an S3 client configured from the
//! usual AWS variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, IRSA on EKS), the
//! layout of the dead-letter archive, and reading that archive back.

mod archive;
mod read;
mod store;

pub use archive::{
    ArchiveLine, MANIFEST_MAX_BYTES, ManifestEntry, data_key, day_prefix, dlq_root, manifest_key,
    manifest_root, parse_data_key,
};
pub use read::{ArchiveReader, ArchivedLetter, ReadError};
pub use store::{
    Endpoint, LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY, ObjectStoreConfig, Objects,
    ObjectsError,
};

/// The object store client every part uses.
pub use object_store::aws::AmazonS3;
/// Object paths, re-exported so callers need no direct dependency.
pub use object_store::path::Path as ObjectPath;
