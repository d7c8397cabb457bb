//! `orchctl dlq list` and `orchctl dlq show`: dead letters by time, reason
//! and error kind, from the topic and the archive together.

use std::process::ExitCode;

use time::format_description::well_known::Rfc3339;

use crate::dead_letters::{self, ArchiveArgs, Found, LetterFilter};
use crate::output::OutputArg;

/// Arguments of `orchctl dlq list`.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: LetterFilter,
    /// Print at most this many, the newest.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[command(flatten)]
    pub archive: ArchiveArgs,
    #[command(flatten)]
    pub kafka: orch_kafka::KafkaConfig,
    #[command(flatten)]
    pub output: OutputArg,
}

/// Arguments of `orchctl dlq show`.
#[derive(Debug, Clone, clap::Args)]
pub struct ShowArgs {
    /// The event id.
    pub id: String,
    #[command(flatten)]
    pub archive: ArchiveArgs,
    #[command(flatten)]
    pub kafka: orch_kafka::KafkaConfig,
}

/// Prints the newest `limit` wanted letters, oldest first, a line each
/// (with `--output json`, one JSON object a line: `dlq show`'s shape).
pub async fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let letters = dead_letters::read(&args.kafka, &args.archive, &args.filter).await?;
    let total = letters.found.len();
    let shown = &letters.found[total.saturating_sub(args.limit)..];
    if args.output.json() {
        for found in shown {
            println!("{}", serde_json::to_string(&shown_json(found))?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<25} {:<8} {:<18} {:>3} {:>8}  {:<36}  message",
        "dead_lettered_at", "source", "reason", "gen", "attempts", "id"
    );
    for found in shown {
        let letter = &found.letter;
        println!(
            "{:<25} {:<8} {:<18} {:>3} {:>8}  {:<36}  {}",
            letter.dead_lettered_at.format(&Rfc3339).unwrap_or_default(),
            found.source,
            letter.reason.as_str(),
            letter.event.generation,
            letter.attempts.len(),
            letter.id,
            one_line(&letter.message, 80),
        );
    }
    println!(
        "{total} dead letter(s) match{}{}.",
        if total > shown.len() {
            format!(", the newest {} shown (--limit)", shown.len())
        } else {
            String::new()
        },
        if letters.archive_read {
            ""
        } else {
            "; the archive was not read (OBJECT_STORE_BUCKET is not set)"
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints every letter of one event, each round, as JSON with its source.
pub async fn show(args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let filter = LetterFilter {
        ids: vec![args.id.clone()],
        ..LetterFilter::default()
    };
    let letters = dead_letters::read(&args.kafka, &args.archive, &filter).await?;
    if letters.found.is_empty() {
        anyhow::bail!(
            "No dead letter for event {:?} in the topic{}",
            args.id,
            if letters.archive_read {
                " or the archive"
            } else {
                " (the archive was not read: OBJECT_STORE_BUCKET is not set)"
            }
        );
    }
    for found in &letters.found {
        println!("{}", serde_json::to_string_pretty(&shown_json(found))?);
    }
    Ok(ExitCode::SUCCESS)
}

fn shown_json(found: &Found) -> serde_json::Value {
    serde_json::json!({
        "source": found.source.to_string(),
        "partition": found.partition,
        "offset": found.offset,
        "letter": found.letter,
    })
}

/// `text` on one line, cut to `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > max {
        flat.chars().take(max - 1).chain(['…']).collect()
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_print_on_one_bounded_line() {
        assert_eq!(one_line("a\nb", 10), "a b");
        assert_eq!(one_line(&"x".repeat(100), 5), "xxxx…");
    }
}
