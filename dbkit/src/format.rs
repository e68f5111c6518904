//! `--format text|json`: the one output-format option of every command with machine output.
//! Text is the human report on stderr (and the listings on stdout, as before); JSON is one
//! document on stdout, in the shape the README documents per command and keeps stable.
//! Every command that offers machine output flattens [`FormatArgs`] into its options.

use serde::Serialize;

use crate::error::{Error, Result};

/// The output format of a command with machine output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Text for people (the default).
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// `--format text|json` for a command with machine output.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct FormatArgs {
    /// Output format (json: one document on stdout, its shape in the README)
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

impl FormatArgs {
    /// Whether JSON was asked for.
    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }
}

/// A document as pretty JSON and a newline.
pub fn render_json(document: &impl Serialize) -> String {
    // Serialising plain strings, numbers and lists cannot fail; say so if it ever does.
    let mut text = serde_json::to_string_pretty(document)
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
    text.push('\n');
    text
}

/// Prints a document as pretty JSON on stdout (a closed pipe is not an error).
pub fn print_json(document: &impl Serialize) -> Result<()> {
    crate::cli::print_out(&render_json(document)).map_err(|e| Error::io("<stdout>", e))
}
