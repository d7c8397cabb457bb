//! `orchctl`: the ops command line for the Event Orchestrator.

mod event;
mod hash_key;
mod overdue;
mod query_api;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use orchctl::output::OutputArg;
use orchctl::{delivery, dlq_list, exit, groups, probe, rebuild, redrive, replay, spool};

/// Operate the Event Orchestrator: look up events, replay, inspect groups, prepare keys.
///
/// Exit status: 0 done, 1 failed, 2 bad usage, 3 refused (nothing changed),
/// 4 differs (a rebuild that does not match).
#[derive(Debug, Parser)]
#[command(name = "orchctl", version = orch_telemetry::long_version(), about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show one event as support sees it: status, attempts, history.
    Event(event::EventArgs),
    /// List overdue events (not final within the overdue limit), oldest
    /// first, with what the sweeper did about each.
    Overdue(overdue::OverdueArgs),
    /// Print the `sha256:<hex>` form of an API key, for service configuration.
    HashKey(hash_key::HashKeyArgs),
    /// Move a stopped consumer group's offsets to a time, an offset or the
    /// beginning, so it processes those records again (`--dry-run` first).
    Replay(replay::ReplayArgs),
    /// List consumer groups, their members, and lag per partition.
    Groups(groups::GroupsArgs),
    /// Work with dead letters: the DLQ topic and its archive in object storage.
    #[command(subcommand)]
    Dlq(DlqCommand),
    /// Work with the read model in Postgres.
    #[command(subcommand)]
    Projection(ProjectionCommand),
    /// Pause, resume or re-rate delivery for the whole dispatcher group, at
    /// run time; each control records who set it and why (`--dry-run` first).
    #[command(subcommand)]
    Delivery(DeliveryCommand),
    /// Read a stopped command replica's spool directory: what waits to be
    /// forwarded and what is quarantined (offline; changes nothing).
    #[command(subcommand)]
    Spool(SpoolCommand),
    /// GET a URL and succeed only on a 2xx: the containers' healthcheck.
    Probe(probe::ProbeArgs),
}

#[derive(Debug, Subcommand)]
enum SpoolCommand {
    /// List segments, pending entries and quarantined items.
    Inspect(spool::InspectArgs),
    /// Write every pending entry and quarantined item as NDJSON.
    Export(spool::ExportArgs),
}

#[derive(Debug, Subcommand)]
enum DeliveryCommand {
    /// Stop every send to the target; events wait in Kafka and lag grows.
    Pause {
        /// When the reason says the pause ends (RFC 3339, e.g. the end of the
        /// target's maintenance window); past it the pause alert fires.
        /// Without it the alert allows 4 hours. Nothing resumes by itself.
        #[arg(long, value_parser = orchctl::parse_time)]
        until: Option<time::OffsetDateTime>,
        #[command(flatten)]
        args: delivery::Reasoned,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Send again, at the paced rate (no burst).
    Resume {
        #[command(flatten)]
        args: delivery::Reasoned,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Set the group's rate: events per second for all replicas together,
    /// or `configured` to go back to DISPATCHER_RATE_LIMIT_PER_SEC.
    Rate {
        /// Events per second, or `configured`.
        #[arg(value_parser = delivery::parse_rate)]
        rate: delivery::RateArg,
        #[command(flatten)]
        args: delivery::Reasoned,
        #[command(flatten)]
        output: OutputArg,
    },
    /// Show the controls in force and, with --dispatcher, each replica's
    /// breaker, pause, rate share and partitions.
    Status(delivery::StatusArgs),
}

#[derive(Debug, Subcommand)]
enum ProjectionCommand {
    /// Rebuild the read model from the topics into a side schema, report
    /// whether it matches the live one, and optionally swap it in (`--dry-run` first).
    Rebuild(rebuild::RebuildArgs),
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// List dead letters by time, reason and error kind, from the topic and
    /// the archive together.
    List(dlq_list::ListArgs),
    /// Show every dead letter of one event, each round, as JSON.
    Show(dlq_list::ShowArgs),
    /// Re-publish dead-lettered events (by id, time or reason; from the topic
    /// or, when it no longer holds them, the archive) with the next replay
    /// generation, for another round of delivery (`--dry-run` first).
    Redrive(redrive::RedriveArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse().command).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("Error: {error:#}");
            exit::code_of(&error)
        }
    }
}

/// Every subcommand has the same shape: its arguments in, an exit code out.
async fn run(command: Command) -> anyhow::Result<ExitCode> {
    use orch_contracts::DeliveryControl;
    match command {
        Command::Event(args) => event::run(&args).await,
        Command::Overdue(args) => overdue::run(&args).await,
        Command::HashKey(args) => hash_key::run(&args),
        Command::Probe(args) => probe::run(&args).await,
        Command::Spool(SpoolCommand::Inspect(args)) => spool::inspect(&args),
        Command::Spool(SpoolCommand::Export(args)) => spool::export(&args),
        Command::Replay(args) => replay::run(&args).await,
        Command::Groups(args) => groups::run(&args).await,
        Command::Dlq(DlqCommand::List(args)) => dlq_list::list(&args).await,
        Command::Dlq(DlqCommand::Show(args)) => dlq_list::show(&args).await,
        Command::Dlq(DlqCommand::Redrive(args)) => redrive::run(&args).await,
        Command::Projection(ProjectionCommand::Rebuild(args)) => rebuild::run(&args).await,
        Command::Delivery(DeliveryCommand::Status(args)) => delivery::status(&args).await,
        Command::Delivery(DeliveryCommand::Pause {
            until,
            args,
            output,
        }) => {
            let pause = DeliveryControl::Pause { paused: true };
            delivery::run_set(&args, pause, until, output).await
        }
        Command::Delivery(DeliveryCommand::Resume { args, output }) => {
            let resume = DeliveryControl::Pause { paused: false };
            delivery::run_set(&args, resume, None, output).await
        }
        Command::Delivery(DeliveryCommand::Rate { rate, args, output }) => {
            let rate = DeliveryControl::Rate {
                events_per_second: rate.0,
            };
            delivery::run_set(&args, rate, None, output).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_any_command_never_prints_a_secret() {
        let commands: [&[&str]; 4] = [
            &["orchctl", "event", "e-1", "--reader-key", "SECRET"],
            &["orchctl", "hash-key", "SECRET"],
            &[
                "orchctl",
                "projection",
                "rebuild",
                "--database-url",
                "postgres://orchestrator:SECRET@db/orchestrator",
            ],
            &[
                "orchctl",
                "delivery",
                "pause",
                "--reason",
                "test",
                "--kafka-sasl-password",
                "SECRET",
            ],
        ];
        for argv in commands {
            let cli = Cli::try_parse_from(argv).unwrap();
            let printed = format!("{cli:?}");
            assert!(!printed.contains("SECRET"), "{printed}");
        }
    }
}
