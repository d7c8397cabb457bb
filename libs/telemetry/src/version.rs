//! Which build this binary is, for `--version`, `orch_build_info` and the
//! `service.version` of its spans.

use std::sync::OnceLock;

/// The workspace's version, shared by every binary.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit built, from `ORCH_GIT_COMMIT` at compile time (the image
/// build passes it); `unknown` for a local build that did not set it.
pub const COMMIT: &str = match option_env!("ORCH_GIT_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

/// `0.1.0 (commit 1a2b3c4)`, what `--version` prints.
pub fn long_version() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| format!("{VERSION} (commit {COMMIT})"))
}
