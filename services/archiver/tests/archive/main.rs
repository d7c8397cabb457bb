//! The archiver against the real broker and a real S3-compatible store.
//! Needs `dev/platform up`.

mod exactly_once;
mod support;
