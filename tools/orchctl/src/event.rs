use std::process::ExitCode;

use orchctl::output::OutputArg;
use serde_json::Value;

/// Arguments of `orchctl event`.
#[derive(Debug, clap::Args)]
pub(crate) struct EventArgs {
    /// The event id.
    id: String,
    #[command(flatten)]
    service: crate::query_api::QueryService,
    /// `json`: the query API's answer as it came.
    #[command(flatten)]
    output: OutputArg,
}

/// Prints the event's summary, or the query API's answer.
pub(crate) async fn run(args: &EventArgs) -> anyhow::Result<ExitCode> {
    let body =
        crate::query_api::get_json(&args.service, &["events", args.id.as_str()], &[]).await?;
    args.output.print(&body, print_summary)?;
    Ok(ExitCode::SUCCESS)
}

fn print_summary(event: &Value) {
    let field = |name: &str| match &event[name] {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    for name in [
        "id",
        "status",
        "brand",
        "attempts",
        "generation",
        "accepted_at",
        "delivered_at",
        "last_error_kind",
        "last_error_message",
        "trace_id",
        "trace_url",
        "correlation_id",
    ] {
        println!("{name:<20} {}", field(name));
    }
    println!("history:");
    for step in event["history"].as_array().into_iter().flatten() {
        println!(
            "  gen {} {:<14} attempt {:<3} {} {}",
            step["generation"],
            step["status"].as_str().unwrap_or("?"),
            step["attempt"],
            step["at"].as_str().unwrap_or("?"),
            step["error_message"].as_str().unwrap_or(""),
        );
    }
}
