//! Human-facing output in cargo's style: a right-aligned, coloured verb and a message on
//! stderr. Colour only on a terminal; nothing at all with `-q`.

use console::{Style, style};

/// How chatty a command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Verbosity {
    /// `-q`: errors only.
    Quiet,
    /// The default: one line per step.
    #[default]
    Normal,
    /// `-v`: also the SQL and details.
    Verbose,
}

/// Where progress and status lines go. Library functions report through it, so an xtask
/// recipe can silence them with [`Reporter::quiet`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Reporter {
    /// The verbosity chosen on the command line.
    pub verbosity: Verbosity,
}

impl Reporter {
    /// A reporter at the given verbosity.
    pub fn new(verbosity: Verbosity) -> Self {
        Reporter { verbosity }
    }

    /// A reporter that prints nothing.
    pub fn quiet() -> Self {
        Reporter::new(Verbosity::Quiet)
    }

    /// Whether details (`-v`) are wanted.
    pub fn is_verbose(&self) -> bool {
        self.verbosity >= Verbosity::Verbose
    }

    /// Whether progress bars may be drawn (normal verbosity and stderr is a terminal).
    pub fn wants_progress(&self) -> bool {
        self.verbosity >= Verbosity::Normal && console::Term::stderr().is_term()
    }

    /// A status line: green verb, then the message (`     Created dbrev.toml`).
    pub fn status(&self, verb: &str, message: impl std::fmt::Display) {
        self.line(Style::new().green().bold(), verb, message);
    }

    /// Names the database a command is about to read or write, masked, as its first status
    /// line (`    Database postgres://app:***@db/shop`). Every command that connects calls
    /// this before connecting, so the target is on screen even when connecting fails.
    pub fn target(&self, url: &crate::url::DatabaseUrl) {
        self.note("Database", url);
    }

    /// A warning line (yellow `warning:`), shown unless quiet.
    pub fn warn(&self, message: impl std::fmt::Display) {
        if self.verbosity > Verbosity::Quiet {
            eprintln!(
                "{} {message}",
                style("warning:").yellow().bold().for_stderr()
            );
        }
    }

    /// A failure line (red verb), shown unless quiet.
    pub fn failed(&self, verb: &str, message: impl std::fmt::Display) {
        self.line(Style::new().red().bold(), verb, message);
    }

    /// A note line (cyan verb), shown unless quiet.
    pub fn note(&self, verb: &str, message: impl std::fmt::Display) {
        self.line(Style::new().cyan().bold(), verb, message);
    }

    /// Detail text (the SQL being run), shown only with `-v`.
    pub fn detail(&self, text: impl std::fmt::Display) {
        if self.is_verbose() {
            eprintln!("{}", style(text).dim().for_stderr());
        }
    }

    fn line(&self, verb_style: Style, verb: &str, message: impl std::fmt::Display) {
        if self.verbosity > Verbosity::Quiet {
            eprintln!(
                "{} {message}",
                verb_style.for_stderr().apply_to(format!("{verb:>12}"))
            );
        }
    }
}

/// Prints an error the way cargo does (`error: ...`) on stderr.
pub fn print_error(message: impl std::fmt::Display) {
    eprintln!("{} {message}", style("error:").red().bold().for_stderr());
}
