//! The query service against the real Postgres, broker and object store:
//! it runs as processes of its own, so a test can SIGKILL a worker and read
//! its peak memory.

mod exports;
mod search;
mod sign_in;
mod support;
