//! Splitting SQL into statements with their line numbers, streaming: a migration runs one
//! statement at a time (so an error names the file line) and a restore reads a dump of any
//! size with memory bounded by its largest statement. Splits as the backend's client does,
//! by the rules its dialect gives ([`crate::dialect::ScriptSyntax`]): `'..'` strings,
//! `".."` identifiers, MySQL backticks, backslash escapes and `#` comments, MySQL's
//! executable `/*!…*/` comments (kept: the server runs them), PostgreSQL `E'..'` strings,
//! `$tag$` bodies, nested comments, `BEGIN ATOMIC … END` routine bodies and semicolons
//! inside parentheses (multi-action rules), as psql reads them; MySQL `DELIMITER`, SQLite
//! `CREATE TRIGGER ... BEGIN ... END` bodies, pg_dump's `COPY ... FROM stdin` data and
//! psql meta-commands.

use std::io::BufRead;

use crate::backend::Backend;
use crate::dialect::{ScriptSyntax, StatementBodies, dialect_for};

/// One statement and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The text, without the terminator and surrounding blanks.
    pub sql: String,
    /// The 1-based line of its first character.
    pub line: usize,
    /// What kind of statement it is.
    pub kind: StatementKind,
}

/// What a [`Statement`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    /// Plain SQL for the server.
    Sql,
    /// `COPY ... FROM stdin`: its rows follow as [`StatementKind::CopyData`] items, then
    /// [`StatementKind::CopyEnd`].
    CopyFromStdin,
    /// Up to about 1 MiB of whole rows of the current COPY (pg_dump's text format).
    CopyData(Vec<u8>),
    /// The `\.` line that ends a COPY's rows.
    CopyEnd,
    /// A psql meta-command (`\connect`, `\restrict`…): not for the server.
    PsqlMeta,
}

/// Text that cannot be split.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// An unterminated quote or comment.
    #[error("line {line}: unterminated {what} starting here")]
    Unterminated {
        /// Where it began.
        line: usize,
        /// What it is (`string`, `comment`, …).
        what: String,
    },
    /// Reading failed.
    #[error("reading: {0}")]
    Io(#[from] std::io::Error),
    /// The text is not UTF-8.
    #[error("line {line}: the statement is not valid UTF-8")]
    Encoding {
        /// Where the statement began.
        line: usize,
    },
}

/// The end (exclusive) of the text quoted by the byte at `start`, closed by `close`: a
/// doubled `close` (when `doubled`), or with `backslash` a byte after a backslash, does not
/// close it; the end of `bytes` when nothing does. For readers that only skip quoted text
/// (snapshot normalising, lint's suppression comments, SQLite's stored DDL).
pub(crate) fn quoted_end(
    bytes: &[u8],
    start: usize,
    close: u8,
    doubled: bool,
    backslash: bool,
) -> usize {
    let mut j = start + 1;
    while j < bytes.len() {
        if backslash && bytes[j] == b'\\' {
            j += 2;
            continue;
        }
        if bytes[j] == close {
            if doubled && bytes.get(j + 1) == Some(&close) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    bytes.len()
}

/// Splits `sql` into statements. Comment-only text yields nothing.
pub fn split_str(sql: &str, backend: Backend) -> Result<Vec<Statement>, SplitError> {
    StatementReader::new(sql.as_bytes(), backend).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Normal,
    Quote {
        quote: u8,
        escapes: bool,
        line: usize,
    },
    LineComment,
    BlockComment {
        depth: usize,
        line: usize,
    },
    Dollar {
        tag: Vec<u8>,
        line: usize,
    },
}

/// Reads statements one by one from any `BufRead`.
pub struct StatementReader<R> {
    reader: R,
    /// How the backend's client reads a script.
    syntax: ScriptSyntax,
    buf: Vec<u8>,
    /// How far `buf` has been scanned.
    pos: usize,
    /// The line at `pos`.
    line: usize,
    eof: bool,
    state: State,
    start: Option<(usize, usize)>,
    delimiter: Vec<u8>,
    /// SQLite trigger and PostgreSQL `BEGIN ATOMIC` bodies: BEGIN/CASE ... END depth once
    /// `CREATE TRIGGER` (SQLite) or `CREATE [OR REPLACE] FUNCTION|PROCEDURE` (PostgreSQL)
    /// starts the statement.
    block_depth: usize,
    /// PostgreSQL: parentheses open in the current statement (psql ends no statement
    /// inside them).
    paren_depth: usize,
    /// The first words of the current statement, upper-cased.
    words: Vec<String>,
    /// Inside a COPY's rows.
    copying: bool,
    /// The line of the `COPY ... FROM stdin` whose rows are being read.
    copy_line: usize,
    /// The line of the `DELIMITER` that set another delimiter than `;`.
    delimiter_line: usize,
    /// Whether the end of the input must fall between statements (dumps: see
    /// [`StatementReader::whole_statements`]).
    strict: bool,
    /// The bytes plain SQL inside a statement passes over without a look
    /// ([`inert_bytes`]).
    inert: [bool; 256],
}

impl<R: BufRead> StatementReader<R> {
    /// A reader for `backend`'s dialect.
    pub fn new(reader: R, backend: Backend) -> Self {
        let syntax = dialect_for(backend).script_syntax();
        StatementReader {
            reader,
            inert: inert_bytes(&syntax, b";"),
            syntax,
            buf: Vec::new(),
            pos: 0,
            line: 1,
            eof: false,
            state: State::Normal,
            start: None,
            delimiter: b";".to_vec(),
            block_depth: 0,
            paren_depth: 0,
            words: Vec::new(),
            copying: false,
            copy_line: 0,
            delimiter_line: 0,
            strict: false,
        }
    }

    /// Makes the end of the input an error unless it falls between statements: a last
    /// statement without its terminator, or a `DELIMITER` block never set back to `;`, is
    /// [`SplitError::Unterminated`] (a dump cut short), where a migration file may end
    /// without a final `;`.
    pub fn whole_statements(mut self) -> Self {
        self.strict = true;
        self
    }

    /// The reader statements are read from.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// Makes sure `n` bytes after `pos` are buffered (unless at EOF); false at EOF.
    fn fill(&mut self, n: usize) -> Result<bool, SplitError> {
        while self.buf.len() < self.pos + n && !self.eof {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                self.eof = true;
                break;
            }
            let len = chunk.len();
            self.buf.extend_from_slice(chunk);
            self.reader.consume(len);
        }
        Ok(self.buf.len() >= self.pos + n)
    }

    fn peek(&mut self, offset: usize) -> Result<Option<u8>, SplitError> {
        Ok(if self.fill(offset + 1)? {
            Some(self.buf[self.pos + offset])
        } else {
            None
        })
    }

    fn advance(&mut self, n: usize) {
        let end = (self.pos + n).min(self.buf.len());
        if let Some(passed) = self.buf.get(self.pos..end) {
            self.line += passed.iter().filter(|&&b| b == b'\n').count();
        }
        self.pos += n;
    }

    /// Drops what is before the current statement (or everything, between statements).
    fn compact(&mut self) {
        let keep_from = self.start.map_or(self.pos, |(s, _)| s);
        if keep_from > 64 * 1024 {
            self.buf.drain(..keep_from);
            self.pos -= keep_from;
            if let Some((s, _)) = &mut self.start {
                *s -= keep_from;
            }
        }
    }

    fn starts_with(&mut self, text: &[u8]) -> Result<bool, SplitError> {
        self.fill(text.len())?;
        Ok(self.buf[self.pos..].starts_with(text))
    }

    /// Whether the delimiter starts at `c`, the current byte (compared in place: this runs
    /// for every byte outside parentheses and blocks).
    fn at_delimiter(&mut self, c: u8) -> Result<bool, SplitError> {
        if self.delimiter.first() != Some(&c) {
            return Ok(false);
        }
        self.fill(self.delimiter.len())?;
        Ok(self.buf[self.pos..].starts_with(&self.delimiter))
    }

    /// The rest of the current line (without the newline), buffering it.
    fn rest_of_line(&mut self) -> Result<Vec<u8>, SplitError> {
        let mut n = 0;
        loop {
            match self.peek(n)? {
                None | Some(b'\n') => break,
                Some(_) => n += 1,
            }
        }
        Ok(self.buf[self.pos..self.pos + n].to_vec())
    }

    fn at_line_start(&self) -> bool {
        self.buf[..self.pos]
            .iter()
            .rev()
            .take_while(|&&b| b != b'\n')
            .all(u8::is_ascii_whitespace)
    }

    fn finish(&mut self, end: usize, kind: StatementKind) -> Result<Option<Statement>, SplitError> {
        let Some((start, line)) = self.start.take() else {
            return Ok(None);
        };
        self.words.clear();
        self.block_depth = 0;
        self.paren_depth = 0;
        let bytes = &self.buf[start..end];
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text.trim().to_owned(),
            // mysqldump writes binary values raw inside string literals.
            Err(_) if self.syntax.raw_binary_strings => {
                hex_binary_literals(bytes).ok_or(SplitError::Encoding { line })?
            }
            Err(_) => return Err(SplitError::Encoding { line }),
        };
        if text.is_empty() {
            return Ok(None);
        }
        Ok(Some(Statement {
            sql: text,
            line,
            kind,
        }))
    }

    /// The next chunk of pg_dump's data block after `COPY ... FROM stdin;`: whole rows,
    /// up to about 1 MiB, or the end of the block at the `\.` line.
    fn copy_chunk(&mut self) -> Result<Statement, SplitError> {
        const CHUNK: usize = 1 << 20;
        let line = self.line;
        let mut data = Vec::new();
        loop {
            // Find the end of the current line in what is buffered, reading more as needed.
            let mut scanned = self.pos;
            let end = loop {
                if let Some(i) = self.buf[scanned..].iter().position(|&b| b == b'\n') {
                    break Some(scanned + i);
                }
                scanned = self.buf.len();
                if !self.fill(scanned - self.pos + 1)? {
                    break None;
                }
            };
            let Some(end) = end else {
                if !data.is_empty() {
                    // Hand over the whole rows first; the error comes on the next call.
                    return Ok(Statement {
                        sql: String::new(),
                        line,
                        kind: StatementKind::CopyData(data),
                    });
                }
                return Err(SplitError::Unterminated {
                    line: self.copy_line,
                    what: "COPY data (the file ends before its `\\.` line)".into(),
                });
            };
            let row = &self.buf[self.pos..end];
            if row == b"\\." || row == b"\\.\r" {
                self.pos = end + 1;
                self.line += 1;
                self.copying = false;
                return Ok(Statement {
                    sql: String::new(),
                    line,
                    kind: if data.is_empty() {
                        StatementKind::CopyEnd
                    } else {
                        // Hand over the rows first; the end comes on the next call.
                        self.pos -= row.len() + 1;
                        self.line -= 1;
                        self.copying = true;
                        StatementKind::CopyData(data)
                    },
                });
            }
            data.extend_from_slice(&self.buf[self.pos..=end]);
            self.pos = end + 1;
            self.line += 1;
            self.compact_all();
            if data.len() >= CHUNK {
                return Ok(Statement {
                    sql: String::new(),
                    line,
                    kind: StatementKind::CopyData(data),
                });
            }
        }
    }

    fn compact_all(&mut self) {
        if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    fn next_statement(&mut self) -> Result<Option<Statement>, SplitError> {
        if self.copying {
            return self.copy_chunk().map(Some);
        }
        loop {
            self.compact();
            let Some(c) = self.peek(0)? else {
                return self.at_end();
            };
            match &self.state {
                State::LineComment => {
                    if c == b'\n' {
                        self.state = State::Normal;
                    }
                    // The rest of the comment's line at once.
                    let run = self.buf[self.pos..]
                        .iter()
                        .position(|&b| b == b'\n')
                        .unwrap_or(self.buf.len() - self.pos)
                        .max(1);
                    self.advance(run);
                }
                &State::BlockComment { depth, line } => self.block_comment(c, depth, line)?,
                &State::Quote { quote, escapes, .. } => self.quoted(c, quote, escapes)?,
                State::Dollar { tag, .. } => {
                    let tag = tag.clone();
                    self.dollar_quoted(&tag)?
                }
                State::Normal => {
                    if let Some(statement) = self.normal(c)? {
                        return Ok(Some(statement));
                    }
                }
            }
        }
    }

    /// The end of the input: the last statement, or what the input ends inside of.
    fn at_end(&mut self) -> Result<Option<Statement>, SplitError> {
        let unterminated = |line: usize, what: &str| {
            Err(SplitError::Unterminated {
                line,
                what: what.to_owned(),
            })
        };
        match &self.state {
            State::Quote {
                quote: b'\'', line, ..
            } => unterminated(*line, "string"),
            State::Quote { line, .. } => unterminated(*line, "quoted identifier"),
            State::BlockComment { line, .. } => unterminated(*line, "comment"),
            State::Dollar { line, .. } => unterminated(*line, "dollar-quoted string"),
            _ if self.strict && self.start.is_some() => unterminated(
                self.start.map_or(self.line, |(_, line)| line),
                "statement (the file ends before its terminator)",
            ),
            _ if self.strict && self.delimiter != b";" => {
                let command = self.syntax.delimiter_command.unwrap_or_default();
                unterminated(
                    self.delimiter_line,
                    &format!("{command} block (the file ends before `{command} ;`)"),
                )
            }
            _ => {
                let end = self.buf.len();
                self.finish(end, StatementKind::Sql)
            }
        }
    }

    /// One step inside a block comment, `depth` deep.
    fn block_comment(&mut self, c: u8, depth: usize, line: usize) -> Result<(), SplitError> {
        let next = self.peek(1)?;
        if c == b'*' && next == Some(b'/') {
            self.advance(2);
            self.state = if depth == 1 {
                State::Normal
            } else {
                State::BlockComment {
                    depth: depth - 1,
                    line,
                }
            };
        } else if c == b'/' && next == Some(b'*') && self.syntax.nested_comments {
            self.advance(2);
            self.state = State::BlockComment {
                depth: depth + 1,
                line,
            };
        } else {
            self.advance(1);
        }
        Ok(())
    }

    /// One step inside a quoted string or identifier.
    fn quoted(&mut self, c: u8, quote: u8, escapes: bool) -> Result<(), SplitError> {
        if c == b'\\' && escapes {
            self.advance(2);
        } else if c == quote {
            if self.peek(1)? == Some(quote) {
                self.advance(2);
            } else {
                self.advance(1);
                self.state = State::Normal;
            }
        } else {
            // Skip a run of plain bytes at once.
            let run = self.buf[self.pos..]
                .iter()
                .position(|&b| b == quote || b == b'\\' || b == b'\n')
                .unwrap_or(self.buf.len() - self.pos)
                .max(1);
            self.advance(run);
        }
        Ok(())
    }

    /// One step inside a dollar-quoted string that `tag` closes.
    fn dollar_quoted(&mut self, tag: &[u8]) -> Result<(), SplitError> {
        if self.starts_with(tag)? {
            self.advance(tag.len());
            self.state = State::Normal;
        } else {
            self.advance(1);
        }
        Ok(())
    }

    /// One step in plain SQL; returns a statement when one ends here.
    fn normal(&mut self, c: u8) -> Result<Option<Statement>, SplitError> {
        if self.start.is_some() {
            // Inside a statement, a run of bytes that mean nothing to the client at once.
            let inert = &self.inert;
            let run = self.buf[self.pos..]
                .iter()
                .take_while(|&&b| inert[usize::from(b)])
                .count();
            if run > 0 {
                self.advance(run);
                return Ok(None);
            }
        }
        let at_start = self.start.is_none() && self.at_line_start();
        if at_start && self.delimiter_command(c)? {
            return Ok(None);
        }
        if at_start && c == b'\\' && self.syntax.meta_commands {
            return self.meta_command().map(Some);
        }
        if c.is_ascii_whitespace() {
            self.advance(1);
            return Ok(None);
        }
        if self.comment_start(c)? {
            return Ok(None);
        }
        if self.block_depth == 0 && self.paren_depth == 0 && self.at_delimiter(c)? {
            return self.end_statement();
        }
        if self.start.is_none() {
            self.start = Some((self.pos, self.line));
        }
        self.token(c)?;
        Ok(None)
    }

    /// The client's command that sets another delimiter (`DELIMITER ;;`), alone on its
    /// line: taken in (true), or not there.
    fn delimiter_command(&mut self, c: u8) -> Result<bool, SplitError> {
        let Some(command) = self.syntax.delimiter_command else {
            return Ok(false);
        };
        if !command
            .as_bytes()
            .first()
            .is_some_and(|b| b.eq_ignore_ascii_case(&c))
        {
            return Ok(false);
        }
        let line = self.rest_of_line()?;
        let text = String::from_utf8_lossy(&line);
        let mut words = text.split_whitespace();
        if words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(command))
            && let Some(delimiter) = words.next()
        {
            self.delimiter = delimiter.as_bytes().to_vec();
            self.inert = inert_bytes(&self.syntax, &self.delimiter);
            self.delimiter_line = self.line;
            self.advance(line.len());
            return Ok(true);
        }
        Ok(false)
    }

    /// A line for the client itself (psql's `\connect`), as a statement of its own.
    fn meta_command(&mut self) -> Result<Statement, SplitError> {
        let line = self.rest_of_line()?;
        let number = self.line;
        self.advance(line.len());
        Ok(Statement {
            sql: String::from_utf8_lossy(&line).trim().to_owned(),
            line: number,
            kind: StatementKind::PsqlMeta,
        })
    }

    /// Whether a comment starts here (entered if so).
    fn comment_start(&mut self, c: u8) -> Result<bool, SplitError> {
        let next = self.peek(1)?;
        let dashes = c == b'-'
            && next == Some(b'-')
            && (!self.syntax.spaced_dash_comments
                || self.peek(2)?.is_none_or(|b| b.is_ascii_whitespace()));
        if dashes || (c == b'#' && self.syntax.hash_comments) {
            self.state = State::LineComment;
            self.advance(1);
            return Ok(true);
        }
        if c == b'/'
            && next == Some(b'*')
            && !(self.syntax.executable_comments && self.peek(2)? == Some(b'!'))
        {
            self.state = State::BlockComment {
                depth: 1,
                line: self.line,
            };
            self.advance(2);
            return Ok(true);
        }
        Ok(false)
    }

    /// The delimiter ends the statement here; after `COPY .. FROM stdin` its rows follow
    /// on the next line.
    fn end_statement(&mut self) -> Result<Option<Statement>, SplitError> {
        let end = self.pos;
        let copy = self.is_copy_from_stdin(end);
        let n = self.delimiter.len();
        self.advance(n);
        if copy {
            let rest = self.rest_of_line()?;
            self.advance(rest.len() + 1);
            self.copying = true;
            self.copy_line = self.start.map_or(self.line, |(_, line)| line);
            return self.finish(end, StatementKind::CopyFromStdin);
        }
        self.finish(end, StatementKind::Sql)
    }

    /// One token of a statement: a quote, a dollar tag, a parenthesis, a word (where
    /// bodies are found by their words) or a byte.
    fn token(&mut self, c: u8) -> Result<(), SplitError> {
        match c {
            b'\'' | b'"' => {
                let escapes = self.syntax.backslash_escapes
                    || (c == b'\'' && self.syntax.escape_strings && self.after_escape_prefix());
                self.open_quote(c, escapes);
            }
            b'`' if self.syntax.backquoted_identifiers => self.open_quote(c, false),
            b'$' if self.syntax.dollar_quoting => self.dollar_tag()?,
            b'(' if self.syntax.parenthesised_statements => {
                self.paren_depth += 1;
                self.advance(1);
            }
            b')' if self.syntax.parenthesised_statements => {
                self.paren_depth = self.paren_depth.saturating_sub(1);
                self.advance(1);
            }
            // A client with a delimiter command looks for it at every byte (`END$$`).
            c if (c.is_ascii_alphabetic() || c == b'_' || c >= 0x80)
                && self.syntax.bodies != StatementBodies::None =>
            {
                let begin = self.pos;
                let mut n = 0;
                while let Some(b) = self.peek(n)? {
                    if is_word_byte(b) {
                        n += 1;
                    } else {
                        break;
                    }
                }
                self.advance(n);
                let word = String::from_utf8_lossy(&self.buf[begin..begin + n]);
                self.word(word.to_ascii_uppercase());
            }
            _ => self.advance(1),
        }
        Ok(())
    }

    /// Whether the quote at `pos` follows an `E` that starts a word (`E'..'`).
    fn after_escape_prefix(&self) -> bool {
        self.pos > 0
            && matches!(self.buf[self.pos - 1], b'E' | b'e')
            && (self.pos < 2 || !is_word_byte(self.buf[self.pos - 2]))
    }

    fn open_quote(&mut self, quote: u8, escapes: bool) {
        self.state = State::Quote {
            quote,
            escapes,
            line: self.line,
        };
        self.advance(1);
    }

    /// `$tag$` (or `$$`) opens a dollar-quoted string; `$1` and a lone `$` do not.
    fn dollar_tag(&mut self) -> Result<(), SplitError> {
        let mut n = 1;
        while let Some(b) = self.peek(n)? {
            if b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 {
                n += 1;
            } else {
                break;
            }
        }
        let is_tag =
            self.peek(n)? == Some(b'$') && self.peek(1)?.is_some_and(|b| !b.is_ascii_digit());
        if is_tag {
            let tag = self.buf[self.pos..self.pos + n + 1].to_vec();
            self.state = State::Dollar {
                tag: tag.clone(),
                line: self.line,
            };
            self.advance(tag.len());
        } else {
            self.advance(1);
        }
        Ok(())
    }

    /// Follows the words of a statement that may hold a body with its own `;`: SQLite's
    /// `CREATE [TEMP] TRIGGER … BEGIN … END` and PostgreSQL's `CREATE [OR REPLACE]
    /// FUNCTION|PROCEDURE … BEGIN ATOMIC … END` (psql's rule: `BEGIN` opens a block outside
    /// parentheses, `CASE` opens one only inside a block, `END` closes one).
    fn word(&mut self, word: String) {
        if self.words.len() < 4 {
            self.words.push(word.clone());
        }
        let first = |i: usize| self.words.get(i).map(String::as_str);
        let has_body = match self.syntax.bodies {
            StatementBodies::Triggers => {
                first(0) == Some("CREATE")
                    && self.words.iter().skip(1).take(2).any(|w| w == "TRIGGER")
            }
            StatementBodies::AtomicRoutines => {
                let routine = |w: Option<&str>| matches!(w, Some("FUNCTION" | "PROCEDURE"));
                first(0) == Some("CREATE")
                    && (routine(first(1))
                        || (first(1) == Some("OR")
                            && first(2) == Some("REPLACE")
                            && routine(first(3))))
                    && self.paren_depth == 0
            }
            StatementBodies::None => false,
        };
        if !has_body {
            return;
        }
        let case_nests = self.syntax.bodies == StatementBodies::Triggers;
        match word.as_str() {
            "BEGIN" => self.block_depth += 1,
            "CASE" if case_nests || self.block_depth > 0 => self.block_depth += 1,
            "END" => self.block_depth = self.block_depth.saturating_sub(1),
            _ => {}
        }
    }

    /// Whether the statement ending at `end` is pg_dump's `COPY ... FROM stdin`.
    fn is_copy_from_stdin(&self, end: usize) -> bool {
        let Some((start, _)) = self.start.filter(|_| self.syntax.copy_from_stdin) else {
            return false;
        };
        let text = String::from_utf8_lossy(&self.buf[start..end]).to_ascii_lowercase();
        let text = text.trim();
        text.starts_with("copy ") && text.ends_with("from stdin")
    }
}

/// The bytes that plain SQL inside a statement can pass over without a look: they open
/// no quote, comment, dollar tag or parenthesis the client counts, start no word the
/// client follows (where it follows bodies) and are not the delimiter's first byte.
/// Between statements every byte is looked at (client commands start lines there).
fn inert_bytes(syntax: &ScriptSyntax, delimiter: &[u8]) -> [bool; 256] {
    let mut inert = [true; 256];
    let mut not = |b: u8| inert[usize::from(b)] = false;
    for b in [b'\'', b'"', b'-', b'/'] {
        not(b);
    }
    if syntax.backquoted_identifiers {
        not(b'`');
    }
    if syntax.dollar_quoting {
        not(b'$');
    }
    if syntax.hash_comments {
        not(b'#');
    }
    if syntax.parenthesised_statements {
        not(b'(');
        not(b')');
    }
    if syntax.bodies != StatementBodies::None {
        for b in 0..=255u8 {
            if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
                not(b);
            }
        }
    }
    if let Some(&first) = delimiter.first() {
        not(first);
    }
    inert
}

/// A byte that continues an identifier (or keyword): letters, digits, `_`, `$` and any
/// byte of a non-ASCII character.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Rewrites MySQL string literals that are not UTF-8 as hex literals (`X'..'`), which
/// carry the same bytes; the rest of the statement must be UTF-8.
fn hex_binary_literals(bytes: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(bytes.len() * 2);
    let mut i = 0;
    while i < bytes.len() {
        let quote = bytes[i];
        if quote != b'\'' && quote != b'"' {
            let run = bytes[i..]
                .iter()
                .position(|&b| b == b'\'' || b == b'"')
                .unwrap_or(bytes.len() - i);
            out.push_str(std::str::from_utf8(&bytes[i..i + run]).ok()?);
            i += run;
            continue;
        }
        let mut value = Vec::new();
        let mut j = i + 1;
        loop {
            let b = *bytes.get(j)?;
            if b == b'\\' {
                let escaped = *bytes.get(j + 1)?;
                value.push(match escaped {
                    b'0' => 0,
                    b'b' => 8,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'Z' => 26,
                    other => other,
                });
                j += 2;
            } else if b == quote && bytes.get(j + 1) == Some(&quote) {
                value.push(quote);
                j += 2;
            } else if b == quote {
                break;
            } else {
                value.push(b);
                j += 1;
            }
        }
        match std::str::from_utf8(&bytes[i..=j]) {
            Ok(literal) => out.push_str(literal),
            Err(_) => {
                out.push_str("X'");
                for b in &value {
                    out.push_str(&format!("{b:02X}"));
                }
                out.push('\'');
            }
        }
        i = j + 1;
    }
    Some(out.trim().to_owned())
}

impl<R: BufRead> Iterator for StatementReader<R> {
    type Item = Result<Statement, SplitError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_statement().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str, backend: Backend) -> Vec<(String, usize)> {
        split_str(sql, backend)
            .unwrap()
            .into_iter()
            .map(|s| (s.sql, s.line))
            .collect()
    }

    #[test]
    fn splits_with_lines() {
        let sql = "-- header\n-- more\n\nCREATE TABLE a (x int);\n\nINSERT INTO a\n  VALUES (';');  -- c\n/* block; */ SELECT 1";
        assert_eq!(
            texts(sql, Backend::Sqlite),
            vec![
                ("CREATE TABLE a (x int)".into(), 4),
                ("INSERT INTO a\n  VALUES (';')".into(), 6),
                ("SELECT 1".into(), 8),
            ]
        );
        assert!(texts("-- only a comment\n", Backend::Postgres).is_empty());
    }

    #[test]
    fn postgres_dollar_quotes_and_nested_comments() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n/* a /* b; */ c; */\nSELECT $1, E'it\\'s;', 'x''y;';";
        let got = texts(sql, Backend::Postgres);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1].1, 3);
    }

    #[test]
    fn mysql_delimiters_escapes_and_hash_comments() {
        let sql = "# comment;\nINSERT INTO t VALUES ('a\\'b;');\nDELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END ;;\nDELIMITER ;\n/*!40101 SET NAMES utf8mb4 */;\nSELECT `a;b` FROM t";
        let got = texts(sql, Backend::Mysql);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got[1].0.contains("SELECT 2; END"), "{got:?}");
        assert_eq!(got[1].1, 4);
        assert_eq!(got[2].0, "/*!40101 SET NAMES utf8mb4 */");
    }

    #[test]
    fn statements_with_bodies_written_by_the_dialect_split_back_whole() {
        let bodies = [
            (
                Backend::Sqlite,
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END",
            ),
            (
                Backend::Postgres,
                "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
            ),
            (Backend::Mysql, "CREATE PROCEDURE p() BEGIN SELECT 1; END"),
        ];
        for (backend, body) in bodies {
            let dialect = dialect_for(backend);
            let script = format!(
                "{}{}{}",
                dialect.script_body(body),
                dialect.script_statement("SELECT 2"),
                dialect.script_statement(body)
            );
            let split: Vec<String> = texts(&script, backend)
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            assert_eq!(split, [body, "SELECT 2", body], "{backend}: {script}");
        }
    }

    #[test]
    fn sqlite_trigger_bodies() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET x = CASE WHEN 1 THEN 2 END;\n  DELETE FROM c;\nEND;\nSELECT 1;";
        let got = texts(sql, Backend::Sqlite);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].0.ends_with("END"), "{got:?}");
    }

    #[test]
    fn pg_dump_copy_blocks_and_meta_commands() {
        let sql = "\\restrict abc\nSET x = 1;\nCOPY public.t (a, b) FROM stdin;\n1\tx;y\n2\t\\N\n\\.\nSELECT 2;\n";
        let got = split_str(sql, Backend::Postgres).unwrap();
        assert_eq!(got[0].kind, StatementKind::PsqlMeta);
        assert_eq!(got[2].sql, "COPY public.t (a, b) FROM stdin");
        assert_eq!(got[2].kind, StatementKind::CopyFromStdin);
        assert_eq!(
            got[3].kind,
            StatementKind::CopyData(b"1\tx;y\n2\t\\N\n".to_vec())
        );
        assert_eq!(got[4].kind, StatementKind::CopyEnd);
        assert_eq!((got[5].sql.as_str(), got[5].line), ("SELECT 2", 7));
    }

    #[test]
    fn streams_in_small_reads() {
        let sql = "INSERT INTO t VALUES ('a;b');\n".repeat(5000);
        let reader = std::io::BufReader::with_capacity(7, sql.as_bytes());
        let got: Vec<Statement> = StatementReader::new(reader, Backend::Mysql)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got.len(), 5000);
        assert_eq!(got[4999].line, 5000);
    }

    #[test]
    fn raw_binary_in_mysql_strings_becomes_hex() {
        let sql = b"INSERT INTO t VALUES (1,'ok','\xff\x00\\0\\'x');\n";
        let got = StatementReader::new(&sql[..], Backend::Mysql)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(got[0].sql, "INSERT INTO t VALUES (1,'ok',X'FF00002778')");
    }

    #[test]
    fn unterminated_is_an_error_with_its_line() {
        let err = split_str("SELECT 1;\nSELECT 'oops;\n", Backend::Sqlite).unwrap_err();
        assert!(
            matches!(&err, SplitError::Unterminated { line: 2, what } if what == "string"),
            "{err}"
        );
        let err = split_str("/* never closed", Backend::Postgres).unwrap_err();
        assert!(
            matches!(err, SplitError::Unterminated { line: 1, .. }),
            "{err}"
        );
    }

    fn strict(sql: &str, backend: Backend) -> Result<Vec<Statement>, SplitError> {
        StatementReader::new(sql.as_bytes(), backend)
            .whole_statements()
            .collect()
    }

    #[test]
    fn a_cut_dump_is_an_error_naming_the_line() {
        // A last statement without its terminator.
        let err = strict("SELECT 1;\nINSERT INTO t\nVALUES (1)", Backend::Sqlite).unwrap_err();
        assert!(
            matches!(err, SplitError::Unterminated { line: 2, .. }),
            "{err}"
        );
        // Migrations may end without `;`.
        assert_eq!(split_str("SELECT 1", Backend::Sqlite).unwrap().len(), 1);
        // A DELIMITER block never closed.
        let sql = "SELECT 1;\nDELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT 1; END ;;\n";
        let err = strict(sql, Backend::Mysql).unwrap_err();
        assert!(
            matches!(err, SplitError::Unterminated { line: 2, .. }),
            "{err}"
        );
        assert_eq!(split_str(sql, Backend::Mysql).unwrap().len(), 2);
        // Unterminated dollar quote and comment.
        let err = strict(
            "SELECT 1;\n\nCREATE FUNCTION f() AS $$ SELECT",
            Backend::Postgres,
        )
        .unwrap_err();
        assert!(
            matches!(err, SplitError::Unterminated { line: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_copy_cut_short_hands_over_its_whole_rows_then_fails() {
        let sql = "SELECT 1;\nCOPY t (a) FROM stdin;\n1\n2\n3";
        let mut reader = StatementReader::new(sql.as_bytes(), Backend::Postgres).whole_statements();
        assert_eq!(reader.next().unwrap().unwrap().sql, "SELECT 1");
        assert_eq!(
            reader.next().unwrap().unwrap().kind,
            StatementKind::CopyFromStdin
        );
        assert_eq!(
            reader.next().unwrap().unwrap().kind,
            StatementKind::CopyData(b"1\n2\n".to_vec())
        );
        let err = reader.next().unwrap().unwrap_err();
        assert!(
            matches!(err, SplitError::Unterminated { line: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn postgres_begin_atomic_bodies_are_one_statement() {
        // As pg_get_functiondef and pg_dump write them, CASE … END inside, a procedure,
        // and OR REPLACE; a parameter named `begin` inside parentheses opens nothing.
        let sql = "CREATE FUNCTION public.f(x integer) RETURNS integer\n    LANGUAGE sql\n    BEGIN ATOMIC\n SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n SELECT x + 1;\nEND;\n\
                   create or replace procedure p(\"begin\" int, begin int) language sql begin atomic insert into t values (1); end;\n\
                   CREATE TABLE t (a int);\n\
                   BEGIN;\nEND;\n";
        let got = texts(sql, Backend::Postgres);
        assert_eq!(got.len(), 5, "{got:?}");
        assert!(got[0].0.ends_with("SELECT x + 1;\nEND"), "{got:?}");
        assert_eq!(got[0].1, 1);
        assert!(got[1].0.ends_with("values (1); end"), "{got:?}");
        assert_eq!(got[1].1, 7);
        assert_eq!(
            got[2..]
                .iter()
                .map(|(s, l)| (s.as_str(), *l))
                .collect::<Vec<_>>(),
            [("CREATE TABLE t (a int)", 8), ("BEGIN", 9), ("END", 10)]
        );
        // A function with a dollar-quoted PL/pgSQL body counts no BEGIN.
        let sql = "CREATE FUNCTION g() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\nSELECT 1;";
        assert_eq!(texts(sql, Backend::Postgres).len(), 2);
    }

    #[test]
    fn postgres_dollar_tags_nest_and_strings_escape() {
        let sql = "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $fn$\nBEGIN\n  EXECUTE $q$SELECT ';'$q$;\n  RETURN $$;$$;\nEND\n$fn$;\n\
                   SELECT E'it\\'s; \\\\', e'\\';', U&'d\\0061t;', U&\"a;b\" UESCAPE '!', 'x''y;', $€$;$€$;\n\
                   SELECT a$b$c FROM t;\n";
        let got = texts(sql, Backend::Postgres);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].0.ends_with("END\n$fn$"), "{got:?}");
        assert_eq!((got[1].1, got[2].1), (7, 8));
        assert_eq!(got[2].0, "SELECT a$b$c FROM t");
        // `E'` only after a non-word byte: `the'…'` is not an escape string.
        let got = texts("SELECT 'a\\';\nSELECT 2;", Backend::Postgres);
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn postgres_rules_keep_their_parenthesised_actions() {
        let sql = "CREATE RULE r1 AS\n    ON INSERT TO public.rr DO ( INSERT INTO t (a)\n  VALUES (1);\n INSERT INTO t (a)\n  VALUES (2);\n );\nSELECT 1;";
        let got = texts(sql, Backend::Postgres);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].0.ends_with("VALUES (2);\n )"), "{got:?}");
        assert_eq!(got[1].1, 7);
    }

    #[test]
    fn comments_holding_semicolons_end_nothing() {
        let pg = "SELECT 1 -- one; two\n + 1; /* a; /* nested; */ still; */ SELECT 2;\n";
        assert_eq!(
            texts(pg, Backend::Postgres),
            [
                ("SELECT 1 -- one; two\n + 1".to_owned(), 1),
                ("SELECT 2".to_owned(), 2)
            ]
        );
        let my = "# hash; comment\nSELECT 1 -- dash; comment\n + 1;\n/* block; */ SELECT 2;\nSELECT 3--1;\n";
        let got = texts(my, Backend::Mysql);
        assert_eq!(
            got.iter()
                .map(|(s, l)| (s.as_str(), *l))
                .collect::<Vec<_>>(),
            [
                ("SELECT 1 -- dash; comment\n + 1", 2),
                ("SELECT 2", 4),
                ("SELECT 3--1", 5)
            ]
        );
        let lite = "SELECT 1; -- x; y\n/* z; */ SELECT 2;";
        assert_eq!(texts(lite, Backend::Sqlite).len(), 2);
    }

    #[test]
    fn mysql_delimiter_blocks_of_every_spelling() {
        let sql = "DELIMITER //\nCREATE PROCEDURE p()\nBEGIN\n  DECLARE x INT;\n  BEGIN\n    SET x = 1; -- inner; block\n  END;\n  IF x THEN SELECT 'a//b;'; END IF;\nEND //\nDELIMITER $$\nCREATE FUNCTION f() RETURNS INT BEGIN RETURN 1; END$$\ndelimiter ;;\n\
                   /*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER t BEFORE INSERT ON x FOR EACH ROW BEGIN SET NEW.a = 1; END */;;\n\
                   DELIMITER ;\n/*!50003 SET sql_mode = 'PIPES_AS_CONCAT' */ ;\nSELECT 1;";
        let got = texts(sql, Backend::Mysql);
        assert_eq!(got.len(), 5, "{got:?}");
        assert!(got[0].0.starts_with("CREATE PROCEDURE p()") && got[0].0.ends_with("END IF;\nEND"));
        assert_eq!(got[0].1, 2);
        assert_eq!(
            got[1],
            (
                "CREATE FUNCTION f() RETURNS INT BEGIN RETURN 1; END".into(),
                11
            )
        );
        assert!(got[2].0.starts_with("/*!50003 CREATE*/") && got[2].0.ends_with("END */"));
        assert_eq!(got[2].1, 13);
        // Executable comments are statements, not comments.
        assert_eq!(
            got[3],
            ("/*!50003 SET sql_mode = 'PIPES_AS_CONCAT' */".into(), 15)
        );
        assert_eq!(got[4].1, 16);
    }

    #[test]
    fn errors_point_at_the_first_line_of_the_statement() {
        let err = split_str(
            "SELECT 1;\n\nCREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n",
            Backend::Postgres,
        )
        .map(|s| s.len());
        // Not strict: the unfinished body is handed over as the last statement, from line 3.
        assert_eq!(err.unwrap(), 2);
        let err = StatementReader::new(
            "SELECT 1;\n\nCREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n"
                .as_bytes(),
            Backend::Postgres,
        )
        .whole_statements()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_err();
        assert!(
            matches!(err, SplitError::Unterminated { line: 3, .. }),
            "{err}"
        );
    }
}
