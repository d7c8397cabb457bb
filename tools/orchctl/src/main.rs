//! `orchctl`: the ops command line for the Event Orchestrator.

mod event;
mod hash_key;

use clap::{Parser, Subcommand};
use orchctl::{groups, probe, rebuild, redrive, replay};

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
    /// Work with the read model in Postgres.
    #[command(subcommand)]
    Projection(ProjectionCommand),
    /// GET a URL and succeed only on a 2xx: the containers' healthcheck.
    Probe(probe::ProbeArgs),
}

#[derive(Debug, Subcommand)]
enum ProjectionCommand {
    /// Rebuild the read model from the topics into a side schema, report
    /// whether it matches the live one, and optionally swap it in (`--dry-run` first).
    Rebuild(rebuild::RebuildArgs),
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
        Command::Probe(args) => probe::run(args).await,
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
        Command::Projection(ProjectionCommand::Rebuild(args)) => {
            let plan = {
                let args = args.clone();
                tokio::task::spawn_blocking(move || rebuild::plan(&args)).await??
            };
            rebuild::print_plan(&args, &plan);
            if args.dry_run {
                return Ok(());
            }
            let report = rebuild::execute(&args, &plan).await?;
            rebuild::print_report(&args, &plan, &report);
            if report.difference.is_some() && report.retired.is_none() {
                anyhow::bail!("the rebuilt model differs from the live one");
            }
            Ok(())
        }
        Command::Groups(args) => tokio::task::spawn_blocking(move || groups::run(&args)).await?,
    }
}
