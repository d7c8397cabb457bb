use anyhow::{Context, bail};
use clap::builder::TypedValueParser as _;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// Arguments of `orchctl event`.
#[derive(Debug, clap::Args)]
pub(crate) struct EventArgs {
    /// The event id.
    id: String,
    /// Base URL of the query service.
    #[arg(long, env = "ORCH_QUERY_URL", default_value = "http://127.0.0.1:8082")]
    query_url: String,
    /// Reader (support role) key for the query service.
    #[arg(long, env = "ORCH_READER_KEY", hide_env_values = true, value_parser = clap::builder::NonEmptyStringValueParser::new().map(SecretString::from))]
    reader_key: SecretString,
    /// Print the raw JSON instead of a summary.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(args: EventArgs) -> anyhow::Result<()> {
    let mut url = reqwest::Url::parse(&args.query_url)
        .with_context(|| format!("--query-url {:?} is not a URL", args.query_url))?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("--query-url {:?} cannot take a path", args.query_url))?
        .pop_if_empty()
        .extend(["events", args.id.as_str()]);
    let response = reqwest::Client::new()
        .get(url.clone())
        .bearer_auth(args.reader_key.expose_secret())
        .send()
        .await
        .with_context(|| format!("Could not reach the query service at {}", args.query_url))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .context("The query service answered with something that is not JSON")?;
    if !status.is_success() {
        let detail = body["detail"].as_str().unwrap_or("no detail given");
        bail!("The query service answered {status}: {detail}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(());
    }
    print_summary(&body);
    Ok(())
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
