//! Splitting SQL text into statements with their line numbers, so a migration runs one
//! statement at a time and an error names the file line. Knows each dialect's quoting:
//! `'..'` strings, `".."` identifiers, MySQL backticks and backslash escapes, PostgreSQL
//! `E'..'` strings, `$tag$` bodies and nested comments, MySQL `DELIMITER`, and SQLite
//! `CREATE TRIGGER ... BEGIN ... END` bodies.

use crate::backend::Backend;

/// One statement and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The text, without the terminator and surrounding blanks.
    pub sql: String,
    /// The 1-based line of its first character in the file.
    pub line: usize,
}

/// Text that cannot be split: an unterminated quote or comment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: unterminated {what} starting here")]
pub struct SplitError {
    /// Where the unterminated construct began.
    pub line: usize,
    /// What it is (`string`, `comment`, …).
    pub what: &'static str,
}

/// Splits `sql` into statements for `backend`. Comment-only text yields nothing.
pub fn split_str(sql: &str, backend: Backend) -> Result<Vec<Statement>, SplitError> {
    let mut splitter = Splitter {
        src: sql.as_bytes(),
        pos: 0,
        line: 1,
        backend,
        delimiter: b";".to_vec(),
        out: Vec::new(),
    };
    splitter.run()?;
    Ok(splitter
        .out
        .into_iter()
        .map(|(start, end, line)| Statement {
            sql: sql[start..end].trim().to_owned(),
            line,
        })
        .filter(|s| !s.sql.is_empty())
        .collect())
}

struct Splitter<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
    backend: Backend,
    delimiter: Vec<u8>,
    /// (start, end, line) of each statement.
    out: Vec<(usize, usize, usize)>,
}

impl Splitter<'_> {
    fn peek(&self, offset: usize) -> Option<u8> {
        self.src.get(self.pos + offset).copied()
    }

    fn advance(&mut self, n: usize) {
        for _ in 0..n {
            if self.src.get(self.pos) == Some(&b'\n') {
                self.line += 1;
            }
            self.pos += 1;
        }
    }

    fn at_line_start(&self) -> bool {
        self.src[..self.pos]
            .iter()
            .rev()
            .take_while(|&&b| b != b'\n')
            .all(|b| b.is_ascii_whitespace())
    }

    fn run(&mut self) -> Result<(), SplitError> {
        let mut start: Option<(usize, usize)> = None;
        // SQLite trigger bodies: BEGIN/CASE ... END nesting depth once CREATE TRIGGER is seen.
        let mut block_depth = 0usize;
        let mut words: Vec<String> = Vec::new();
        while self.pos < self.src.len() {
            let c = self.src[self.pos];
            if self.backend == Backend::Mysql && start.is_none() && self.at_line_start() {
                if let Some(delim) = self.delimiter_command() {
                    self.delimiter = delim;
                    continue;
                }
            }
            if c.is_ascii_whitespace() {
                self.advance(1);
                continue;
            }
            if self.skip_comment()? {
                continue;
            }
            if block_depth == 0 && self.src[self.pos..].starts_with(&self.delimiter) {
                if let Some((s, line)) = start.take() {
                    self.out.push((s, self.pos, line));
                }
                words.clear();
                let n = self.delimiter.len();
                self.advance(n);
                continue;
            }
            if start.is_none() {
                start = Some((self.pos, self.line));
            }
            if self.skip_quoted()? {
                continue;
            }
            if c.is_ascii_alphabetic() || c == b'_' {
                let begin = self.pos;
                while self
                    .peek(0)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
                {
                    self.advance(1);
                }
                if self.backend == Backend::Sqlite {
                    let word =
                        String::from_utf8_lossy(&self.src[begin..self.pos]).to_ascii_uppercase();
                    if words.len() < 4 {
                        words.push(word.clone());
                    }
                    let is_trigger = words.first().is_some_and(|w| w == "CREATE")
                        && words.iter().skip(1).take(2).any(|w| w == "TRIGGER");
                    if is_trigger {
                        match word.as_str() {
                            "BEGIN" | "CASE" => block_depth += 1,
                            "END" => block_depth = block_depth.saturating_sub(1),
                            _ => {}
                        }
                    }
                }
                continue;
            }
            self.advance(1);
        }
        if let Some((s, line)) = start {
            self.out.push((s, self.src.len(), line));
        }
        Ok(())
    }

    /// A `DELIMITER xx` client command at the start of a line (MySQL).
    fn delimiter_command(&mut self) -> Option<Vec<u8>> {
        let rest = &self.src[self.pos..];
        let keyword = b"delimiter";
        if rest.len() <= keyword.len()
            || !rest[..keyword.len()].eq_ignore_ascii_case(keyword)
            || !rest[keyword.len()].is_ascii_whitespace()
        {
            return None;
        }
        let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let delim: Vec<u8> = rest[keyword.len()..line_end]
            .iter()
            .copied()
            .skip_while(u8::is_ascii_whitespace)
            .take_while(|b| !b.is_ascii_whitespace())
            .collect();
        if delim.is_empty() {
            return None;
        }
        self.advance(line_end);
        Some(delim)
    }

    fn skip_comment(&mut self) -> Result<bool, SplitError> {
        let c = self.src[self.pos];
        let next = self.peek(1);
        let line_comment = (c == b'-'
            && next == Some(b'-')
            && (self.backend != Backend::Mysql
                || self.peek(2).is_none_or(|b| b.is_ascii_whitespace())))
            || (c == b'#' && self.backend == Backend::Mysql);
        if line_comment {
            while self.peek(0).is_some_and(|b| b != b'\n') {
                self.advance(1);
            }
            return Ok(true);
        }
        if c == b'/' && next == Some(b'*') {
            // MySQL executable comments (/*!40101 ... */) are statement text.
            if self.backend == Backend::Mysql && self.peek(2) == Some(b'!') {
                return Ok(false);
            }
            let line = self.line;
            let nests = self.backend == Backend::Postgres;
            let mut depth = 0usize;
            loop {
                match (self.peek(0), self.peek(1)) {
                    (Some(b'/'), Some(b'*')) if depth == 0 || nests => {
                        depth += 1;
                        self.advance(2);
                    }
                    (Some(b'*'), Some(b'/')) => {
                        depth -= 1;
                        self.advance(2);
                        if depth == 0 {
                            return Ok(true);
                        }
                    }
                    (Some(_), _) => self.advance(1),
                    (None, _) => {
                        return Err(SplitError {
                            line,
                            what: "comment",
                        });
                    }
                }
            }
        }
        Ok(false)
    }

    fn skip_quoted(&mut self) -> Result<bool, SplitError> {
        let c = self.src[self.pos];
        let line = self.line;
        match c {
            b'\'' | b'"' | b'`' => {
                if c == b'`' && self.backend != Backend::Mysql {
                    return Ok(false);
                }
                let escapes = self.backend == Backend::Mysql && c != b'`'
                    || (c == b'\''
                        && self.backend == Backend::Postgres
                        && self.pos > 0
                        && matches!(self.src[self.pos - 1], b'E' | b'e')
                        && (self.pos < 2 || !self.src[self.pos - 2].is_ascii_alphanumeric()));
                self.advance(1);
                loop {
                    match self.peek(0) {
                        None => {
                            return Err(SplitError {
                                line,
                                what: if c == b'\'' {
                                    "string"
                                } else {
                                    "quoted identifier"
                                },
                            });
                        }
                        Some(b'\\') if escapes => self.advance(2),
                        Some(b) if b == c => {
                            self.advance(1);
                            if self.peek(0) == Some(c) {
                                self.advance(1);
                            } else {
                                return Ok(true);
                            }
                        }
                        Some(_) => self.advance(1),
                    }
                }
            }
            b'$' if self.backend == Backend::Postgres => {
                let rest = &self.src[self.pos + 1..];
                let tag_len = rest
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                    .unwrap_or(rest.len());
                let is_tag = rest.get(tag_len) == Some(&b'$')
                    && rest.first().is_none_or(|b| !b.is_ascii_digit());
                if !is_tag {
                    return Ok(false);
                }
                let tag = self.src[self.pos..self.pos + tag_len + 2].to_vec();
                self.advance(tag.len());
                loop {
                    if self.pos >= self.src.len() {
                        return Err(SplitError {
                            line,
                            what: "dollar-quoted string",
                        });
                    }
                    if self.src[self.pos..].starts_with(&tag) {
                        self.advance(tag.len());
                        return Ok(true);
                    }
                    self.advance(1);
                }
            }
            _ => Ok(false),
        }
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
    fn sqlite_trigger_bodies() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET x = CASE WHEN 1 THEN 2 END;\n  DELETE FROM c;\nEND;\nSELECT 1;";
        let got = texts(sql, Backend::Sqlite);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].0.ends_with("END"), "{got:?}");
    }

    #[test]
    fn unterminated_is_an_error_with_its_line() {
        let err = split_str("SELECT 1;\nSELECT 'oops;\n", Backend::Sqlite).unwrap_err();
        assert_eq!(
            err,
            SplitError {
                line: 2,
                what: "string"
            }
        );
        let err = split_str("/* never closed", Backend::Postgres).unwrap_err();
        assert_eq!(err.line, 1);
    }
}
