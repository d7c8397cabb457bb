//! `orchctl`: the ops command line for the Event Orchestrator.

mod event;
mod hash_key;
mod overdue;
mod query_api;

use clap::{Parser, Subcommand};
use orchctl::{delivery, dlq_list, groups, probe, rebuild, redrive, replay, spool};

/// Operate the Event Orchestrator: look up events, replay, inspect groups, prepare keys.
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
    },
    /// Send again, at the paced rate (no burst).
    Resume(delivery::Reasoned),
    /// Set the group's rate: events per second for all replicas together,
    /// or `configured` to go back to DISPATCHER_RATE_LIMIT_PER_SEC.
    Rate {
        /// Events per second, or `configured`.
        #[arg(value_parser = delivery::parse_rate)]
        rate: delivery::RateArg,
        #[command(flatten)]
        args: delivery::Reasoned,
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
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Event(args) => event::run(args).await,
        Command::Overdue(args) => overdue::run(args).await,
        Command::HashKey(args) => hash_key::run(args),
        Command::Probe(args) => probe::run(args).await,
        Command::Spool(SpoolCommand::Inspect(args)) => spool::inspect(&args),
        Command::Spool(SpoolCommand::Export(args)) => spool::export(&args),
        Command::Replay(args) => {
            let plan = tokio::task::spawn_blocking(move || replay::replay(&args)).await??;
            replay::print(&plan);
            Ok(())
        }
        Command::Dlq(DlqCommand::List(args)) => dlq_list::list(&args).await,
        Command::Dlq(DlqCommand::Show(args)) => dlq_list::show(&args).await,
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
        Command::Delivery(command) => {
            use orch_contracts::DeliveryControl;
            let (args, control, until) = match command {
                DeliveryCommand::Status(args) => return delivery::status(&args).await,
                DeliveryCommand::Pause { until, args } => {
                    (args, DeliveryControl::Pause { paused: true }, until)
                }
                DeliveryCommand::Resume(args) => {
                    (args, DeliveryControl::Pause { paused: false }, None)
                }
                DeliveryCommand::Rate { rate, args } => (
                    args,
                    DeliveryControl::Rate {
                        events_per_second: rate.0,
                    },
                    None,
                ),
            };
            let report = delivery::set_until(&args, control, until).await?;
            delivery::print_set(&report);
            Ok(())
        }
        Command::Groups(args) => tokio::task::spawn_blocking(move || groups::run(&args)).await?,
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
