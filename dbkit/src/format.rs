//! `--format text|json`: the one output-format option of every command with machine output.
//! Human output goes to stderr whatever the format; `json` puts one document on stdout, in
//! a shape each command documents and keeps stable.

/// The output format of a command with machine output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Text for people (the default).
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}
