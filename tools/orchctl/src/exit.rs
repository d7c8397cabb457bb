//! How `orchctl` ends, so scripts can tell the cases apart without reading
//! the message: 0 done, 1 failed, 2 bad usage (clap's own), 3 refused
//! (nothing was changed: a live group, a spool in use, an existing file),
//! 4 differs (a rebuild that does not match the live read model).

use std::process::ExitCode;

/// The command did what was asked.
pub const DONE: u8 = 0;
/// It could not: a service unreachable, an unknown event, a bad answer.
pub const FAILED: u8 = 1;
/// It would not, and changed nothing: the message says what to do first.
pub const REFUSED: u8 = 3;
/// A comparison found a difference (`projection rebuild` without `--promote`).
pub const DIFFERS: u8 = 4;

/// A refusal: the operation was not started because it would be unsafe now.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The exit code for a failed command: `REFUSED` when a refusal is anywhere
/// in its cause chain, `FAILED` otherwise.
pub fn code_of(error: &anyhow::Error) -> ExitCode {
    if error.chain().any(|cause| cause.is::<Refused>()) {
        ExitCode::from(REFUSED)
    } else {
        ExitCode::from(FAILED)
    }
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn a_refusal_is_told_apart_from_a_failure_even_with_context() {
        let refused = anyhow::Error::new(Refused("group is live".into())).context("replay");
        assert_eq!(code_of(&refused), ExitCode::from(REFUSED));
        let failed: anyhow::Result<()> =
            Err(std::io::Error::other("broker down")).context("replay");
        assert_eq!(code_of(&failed.unwrap_err()), ExitCode::from(FAILED));
    }
}
