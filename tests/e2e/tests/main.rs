//! End-to-end tests: every service in-process on port 0, talking through the
//! real Kafka broker, the real Postgres and the object store that
//! `dev/platform up` starts.
//! Each test gets its own topic prefix, consumer groups and database.

mod support;

mod archive_redrive;
mod console;
mod dead_letters;
mod hostile_input;
mod kafka_security;
mod listing;
mod metrics;
mod ops_files;
mod overdue;
mod postgres_outage;
mod postgres_tls;
mod projection;
mod rebuild;
mod replay;
mod traces;
mod walking_skeleton;
