//! What the backend's own command-line tools make of SQL text: how its client (`psql`,
//! `mariadb`, `sqlite3`) splits a script into statements ([`ScriptSyntax`], read by
//! `statements`), and the dumps its dumpers write ([`NativeDump`], recognised by restore).
//! Plain data; each backend's dialect gives its own.

/// How a backend's command-line client reads a script: quotes, comments, client commands
/// and the statements whose bodies hold `;`s of their own. [`ScriptSyntax::STANDARD`] is
/// standard SQL: `'..'` strings, `".."` identifiers (quotes doubled to escape them), `--`
/// and `/* */` comments, `;` ends a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptSyntax {
    /// `#` starts a comment running to the end of the line (MySQL).
    pub hash_comments: bool,
    /// A backslash escapes the next character inside quotes (MySQL).
    pub backslash_escapes: bool,
    /// Backquotes quote identifiers (MySQL).
    pub backquoted_identifiers: bool,
    /// `$tag$ .. $tag$` quotes a string (PostgreSQL's dollar quoting).
    pub dollar_quoting: bool,
    /// `E'..'` strings take backslash escapes (PostgreSQL).
    pub escape_strings: bool,
    /// Block comments nest (PostgreSQL).
    pub nested_comments: bool,
    /// `--` starts a comment only before a blank (MySQL: `SELECT 3--1` is arithmetic).
    pub spaced_dash_comments: bool,
    /// `/*! .. */` holds SQL the server runs, not a comment (MySQL).
    pub executable_comments: bool,
    /// The client command, alone on its line, that sets another statement delimiter
    /// (MySQL's); such a client looks for the delimiter at every byte, inside words too.
    pub delimiter_command: Option<&'static str>,
    /// A line starting with a backslash is a command for the client (psql's `\connect`).
    pub meta_commands: bool,
    /// `COPY .. FROM stdin` is followed by its rows and a `\.` line (psql).
    pub copy_from_stdin: bool,
    /// No statement ends inside parentheses (psql: multi-action rules).
    pub parenthesised_statements: bool,
    /// Which statements hold a `BEGIN .. END` body with `;`s of its own.
    pub bodies: StatementBodies,
    /// String literals may hold raw bytes that are not UTF-8 (mysqldump's binary values),
    /// read as hex literals (`X'..'`) that carry the same bytes.
    pub raw_binary_strings: bool,
}

/// The statements whose `BEGIN .. END` body holds `;`s that end nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementBodies {
    /// None (bodies are written between other delimiters, or never hold `;`).
    None,
    /// `CREATE [TEMP] TRIGGER .. BEGIN .. END`, where `CASE .. END` nests (sqlite3).
    Triggers,
    /// `CREATE [OR REPLACE] FUNCTION|PROCEDURE .. BEGIN ATOMIC .. END` outside
    /// parentheses, where `CASE` opens a block only inside one (psql).
    AtomicRoutines,
}

impl ScriptSyntax {
    /// Standard SQL, nothing more.
    pub const STANDARD: ScriptSyntax = ScriptSyntax {
        hash_comments: false,
        backslash_escapes: false,
        backquoted_identifiers: false,
        dollar_quoting: false,
        escape_strings: false,
        nested_comments: false,
        spaced_dash_comments: false,
        executable_comments: false,
        delimiter_command: None,
        meta_commands: false,
        copy_from_stdin: false,
        parenthesised_statements: false,
        bodies: StatementBodies::None,
        raw_binary_strings: false,
    };
}

/// A plain-SQL dump one of the backend's own dumpers writes (pg_dump, mysqldump, sqlite3's
/// `.dump`): how its first lines read and the line a finished one ends with.
#[derive(Debug, PartialEq, Eq)]
pub struct NativeDump {
    /// Who writes it, for messages.
    pub writer: &'static str,
    /// How its first lines say who wrote it.
    pub opening: Opening,
    /// The last line of a finished dump (after it only `--` lines and psql's
    /// `\unrestrict`).
    pub completion: &'static str,
    /// Whether the last line is the completion line whole, not only its start.
    pub completion_is_whole: bool,
}

/// How the first (non-blank, trimmed) lines of a dump say who wrote it.
#[derive(Debug, PartialEq, Eq)]
pub enum Opening {
    /// One of the first few lines starts with one of these.
    LineStarting(&'static [&'static str]),
    /// One of the first few lines is this one.
    Line(&'static str),
    /// The file starts with these lines.
    FirstLines(&'static [&'static str]),
}

impl NativeDump {
    /// Whether `lines` (the first few non-blank lines, trimmed) open a dump of this kind.
    pub fn opens(&self, lines: &[&str]) -> bool {
        match self.opening {
            Opening::LineStarting(starts) => lines
                .iter()
                .any(|l| starts.iter().any(|s| l.starts_with(s))),
            Opening::Line(line) => lines.contains(&line),
            Opening::FirstLines(first) => lines.starts_with(first),
        }
    }

    /// Whether `last` (the file's last line that is not `--` or `\unrestrict`) ends a
    /// finished dump of this kind.
    pub fn ends(&self, last: &str) -> bool {
        if self.completion_is_whole {
            last == self.completion
        } else {
            last.starts_with(self.completion)
        }
    }
}
