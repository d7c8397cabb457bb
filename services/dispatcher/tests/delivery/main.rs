//! Integration tests of the dispatcher against the real broker and the
//! sandbox target: replicas run as processes so a test can SIGKILL one.

mod support;

mod breaker;
mod controls;
mod head_of_line;
mod hostile_answers;
mod rate_and_faults;
mod supervision;
