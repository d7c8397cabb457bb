//! `orchctl overdue`: the events the sweeper counts as overdue, oldest first.

use std::process::ExitCode;

use orchctl::output::OutputArg;
use serde_json::Value;

/// Arguments of `orchctl overdue`.
#[derive(Debug, clap::Args)]
pub(crate) struct OverdueArgs {
    /// Most events to list (1 to 100000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    limit: u32,
    #[command(flatten)]
    service: crate::query_api::QueryService,
    /// `json`: one JSON object per line instead of a table.
    #[command(flatten)]
    output: OutputArg,
}

/// Lists overdue events a page at a time until `--limit` or the end.
pub(crate) async fn run(args: &OverdueArgs) -> anyhow::Result<ExitCode> {
    let mut listed = 0u32;
    let mut cursor: Option<String> = None;
    if !args.output.json() {
        println!(
            "{:<40} {:<10} {:>3} {:<25} {:<15}",
            "id", "status", "gen", "accepted_at", "sweep"
        );
    }
    loop {
        let page_size = (args.limit - listed).min(1_000).to_string();
        let mut query = vec![
            ("overdue", "true"),
            ("sort", "oldest"),
            ("limit", page_size.as_str()),
        ];
        if let Some(cursor) = &cursor {
            query.push(("cursor", cursor.as_str()));
        }
        let page = crate::query_api::get_json(&args.service, &["events"], &query).await?;
        for event in page["events"].as_array().into_iter().flatten() {
            print_event(event, args.output.json())?;
            listed += 1;
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() || listed >= args.limit {
            break;
        }
    }
    if !args.output.json() {
        eprintln!(
            "{listed} overdue event(s){}. Swept ones were published again once; \
             overdue_failed ones are given up on: see docs/runbooks/events-overdue.md.",
            if cursor.is_some() {
                ", more not shown (raise --limit)"
            } else {
                ""
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_event(event: &Value, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(event)?);
        return Ok(());
    }
    let text = |name: &str| event[name].as_str().unwrap_or("-").to_owned();
    println!(
        "{:<40} {:<10} {:>3} {:<25} {:<15}",
        text("id"),
        text("status"),
        event["generation"],
        text("accepted_at"),
        text("overdue"),
    );
    Ok(())
}
