//! Export jobs against the real Postgres, broker and object store: the
//! query service runs as processes of its own, so a test can SIGKILL a
//! worker and read its peak memory.

mod bad_requests;
mod million;
mod support;
mod takeover;
