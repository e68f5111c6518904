//! `--format text|json`: how a command hands its result over. Text is the human report on
//! stderr (and the listings on stdout, as before); JSON is one document on stdout, in the
//! shape the README documents per command, for CI. Every command that offers machine
//! output flattens [`FormatArgs`] into its options.

use serde::Serialize;

use crate::error::{Error, Result};

/// The output format a command was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// A readable report (stderr), the default.
    #[default]
    Text,
    /// One JSON document on stdout; the report on stderr stays.
    Json,
}

/// `--format text|json`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct FormatArgs {
    /// `json`: print the result as one JSON document on stdout (for CI)
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub format: OutputFormat,
}

impl FormatArgs {
    /// Whether JSON was asked for.
    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }
}

/// Prints `value` as pretty JSON and a newline on stdout (a closed pipe is not an error).
pub fn print_json(value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Export(format!("writing JSON: {e}")))?;
    text.push('\n');
    crate::cli::print_out(&text).map_err(|e| Error::io("<stdout>", e))
}
