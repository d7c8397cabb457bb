//! The query service: projects `events.raw` and `events.status` into Postgres
//! (idempotently, never moving a status backwards) and serves look-ups, the
//! console, exports and the overdue sweep.
//!
//! Its public face is two things. The service: `Application` and its
//! configuration. And the read model's **ops API**, `rebuild`, which
//! `orchctl rebuild` calls: a rebuild must fold records with the very code
//! the live projector runs, or a matching checksum would prove nothing, so
//! the projection stays in this crate (a library of its own would move the
//! fold, the store, the migrations and their tests for no change in what
//! runs) and orchctl depends on this crate for that one module.

mod config;
mod console;
mod database_error;
mod db;
mod error;
mod exports;
mod listing;
mod metrics_catalogue;
mod overdue;
mod projector;
pub mod rebuild;
mod republish;
mod routes;
mod startup;
mod state;
mod trace_link;

pub use config::QueryConfig;
pub use console::{ConsoleConfig, SecureCookie};
pub use db::{EXPORT_PAGE_SQL, FIND_EVENT_SQL, migrate};
pub use error::StartupError;
pub use exports::ExportSettings;
pub use overdue::OverdueConfig;
pub use routes::openapi::QueryApi;
pub use startup::Application;
pub use trace_link::TraceLink;
