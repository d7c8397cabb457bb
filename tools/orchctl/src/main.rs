//! `orchctl`: the ops command line for the Event Orchestrator.

mod event;
mod hash_key;

use clap::{Parser, Subcommand};
use orchctl::{groups, redrive, replay};

/// Operate the Event Orchestrator: look up events, replay, inspect groups, prepare keys.
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
    /// Move a stopped consumer group's offsets to a time, an offset or the
    /// beginning, so it processes those records again (`--dry-run` first).
    Replay(replay::ReplayArgs),
    /// List consumer groups, their members, and lag per partition.
    Groups(groups::GroupsArgs),
    /// Work with the dead-letter topic.
    #[command(subcommand)]
    Dlq(DlqCommand),
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// Re-publish dead-lettered events (by id or time) with the next replay
    /// generation, for another round of delivery (`--dry-run` first).
    Redrive(redrive::RedriveArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Event(args) => event::run(args).await,
        Command::HashKey(args) => hash_key::run(args),
        Command::Replay(args) => {
            let plan = tokio::task::spawn_blocking(move || replay::replay(&args)).await??;
            replay::print(&plan);
            Ok(())
        }
        Command::Dlq(DlqCommand::Redrive(args)) => {
            let report = redrive::redrive(&args).await?;
            redrive::print(&report);
            Ok(())
        }
        Command::Groups(args) => tokio::task::spawn_blocking(move || groups::run(&args)).await?,
    }
}
