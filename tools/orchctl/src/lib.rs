//! The operations behind `orchctl`, as a library so tests drive them against
//! the real broker exactly as the command line does.

pub mod groups;
pub mod offsets;
pub mod redrive;
pub mod replay;
