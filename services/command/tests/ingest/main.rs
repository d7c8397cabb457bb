//! Integration tests of the command service against the real broker: the
//! service in-process on port 0, or as a process when a test must kill it.

mod support;

mod outage;
mod slow_clients;
mod validation;
