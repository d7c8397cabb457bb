//! Integration tests of the dispatcher against the real broker and the
//! sandbox target: replicas run as processes so a test can SIGKILL one.

mod support;

mod head_of_line;
mod rate_and_faults;
