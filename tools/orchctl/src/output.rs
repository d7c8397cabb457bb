//! `--output text|json`: every command a script would read prints either a
//! table for people or one JSON document (or one per line, for lists).

use serde::Serialize;

/// How a command prints its result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Lines and tables for a person at a terminal.
    #[default]
    Text,
    /// JSON for scripts (lists: one object per line).
    Json,
}

/// The `--output` flag, flattened into each command's arguments.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct OutputArg {
    /// `text` for people, `json` for scripts.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

impl OutputArg {
    /// Whether a script asked for JSON.
    pub fn json(self) -> bool {
        self.output == Output::Json
    }

    /// Prints `value` as JSON, or for people with `text`.
    pub fn print<T: Serialize + ?Sized>(
        self,
        value: &T,
        text: impl FnOnce(&T),
    ) -> anyhow::Result<()> {
        if self.json() {
            print_json(value)
        } else {
            text(value);
            Ok(())
        }
    }
}

/// Prints `value` as one pretty JSON document.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
