use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};

/// Arguments of `orchctl hash-key`.
#[derive(Debug, clap::Args)]
pub(crate) struct HashKeyArgs {
    /// The key; read from standard input when omitted, so it stays out of shell history.
    key: Option<SecretString>,
}

/// Prints the key's hash.
pub(crate) fn run(args: &HashKeyArgs) -> anyhow::Result<ExitCode> {
    let key = match &args.key {
        Some(key) => key.clone(),
        None => std::io::stdin()
            .lock()
            .lines()
            .next()
            .context("No key given: pass it as an argument or on standard input.")?
            .context("Could not read the key from standard input")?
            .into(),
    };
    let key = key.expose_secret().trim();
    if key.is_empty() {
        bail!("The key is empty.");
    }
    println!("{}", orch_http::hash_key(key));
    Ok(ExitCode::SUCCESS)
}
