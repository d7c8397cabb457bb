//! `orchctl`: the ops command line for the Event Orchestrator.

mod event;
mod hash_key;

use clap::{Parser, Subcommand};

/// Operate the Event Orchestrator: look up events, prepare keys.
#[derive(Debug, Parser)]
#[command(name = "orchctl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show one event as support sees it: status, attempts, history.
    Event(event::EventArgs),
    /// Print the `sha256:<hex>` form of an API key, for service configuration.
    HashKey(hash_key::HashKeyArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Event(args) => event::run(args).await,
        Command::HashKey(args) => hash_key::run(args),
    }
}
