//! Suppression comments: `-- dbrev:allow RULE-ID reason` (also `#` and `/* */` comments)
//! on the line above a statement or on one of its lines. The reason is required; a comment
//! without one suppresses nothing and is itself reported.

use super::parse::Parsed;
use crate::backend::Backend;
use crate::dialect::dialect_for;
use crate::statements::quoted_end;

/// The marker that starts a suppression comment.
pub const MARKER: &str = "dbrev:allow";

/// One `dbrev:allow` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    /// The line it is on.
    pub line: usize,
    /// The rule ids it names (comma-separated in the comment).
    pub rules: Vec<String>,
    /// Why (empty when missing).
    pub reason: String,
    /// The statement it belongs to (index in the file), if any.
    pub statement: Option<usize>,
}

/// Finds the `dbrev:allow` comments of a file and attaches each to its statement.
pub fn allows(text: &str, backend: Backend, statements: &[Parsed]) -> Vec<Allow> {
    let lines: Vec<&str> = text.lines().collect();
    comments(text, backend)
        .into_iter()
        .filter_map(|(line, body)| {
            let rest = body.trim().strip_prefix(MARKER)?;
            let rest = rest.trim();
            let (ids, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            Some(Allow {
                line,
                rules: ids
                    .split(',')
                    .map(|id| id.trim().to_ascii_uppercase())
                    .filter(|id| !id.is_empty())
                    .collect(),
                reason: reason.trim().trim_end_matches("*/").trim().to_owned(),
                statement: attach(line, statements, &lines),
            })
        })
        .collect()
}

/// The statement a comment on `line` belongs to: one whose lines include it, else the
/// first statement below it when only comment lines stand between.
fn attach(line: usize, statements: &[Parsed], lines: &[&str]) -> Option<usize> {
    if let Some(i) = statements
        .iter()
        .position(|s| s.line <= line && line <= s.end_line)
    {
        return Some(i);
    }
    let next = statements.iter().position(|s| s.line > line)?;
    let between = &lines[line.min(lines.len())..(statements[next].line - 1).min(lines.len())];
    between
        .iter()
        .all(|l| {
            let l = l.trim_start();
            l.starts_with("--") || l.starts_with('#') || l.starts_with("/*") || l.starts_with('*')
        })
        .then_some(next)
}

/// Every comment of a file: its first line and its text without the comment markers.
/// Strings, quoted names and dollar-quoted bodies are skipped, as the backend's dialect
/// reads them.
fn comments(text: &str, backend: Backend) -> Vec<(usize, String)> {
    let dialect = dialect_for(backend);
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        // Where the comment or the quoted text starting at `i` ends.
        let end = if (c == b'-' && next == Some(b'-')) || (c == b'#' && dialect.hash_comments()) {
            let start = i + if c == b'#' { 1 } else { 2 };
            let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
            out.push((line, text[start..end].to_owned()));
            end
        } else if c == b'/' && next == Some(b'*') {
            let start = i + 2;
            let end = text[start..].find("*/").map_or(text.len(), |n| start + n);
            out.push((line, text[start..end].to_owned()));
            (end + 2).min(bytes.len())
        } else if matches!(c, b'\'' | b'"') || (c == b'`' && dialect.backquoted_identifiers()) {
            quoted_end(bytes, i, c, true, dialect.backslash_escapes())
        } else if let Some(end) = (c == b'$' && dialect.dollar_quoting())
            .then(|| dollar_quoted_end(text, i))
            .flatten()
        {
            end
        } else {
            line += usize::from(c == b'\n');
            i += 1;
            continue;
        };
        line += text[i..end].matches('\n').count();
        i = end;
    }
    out
}

/// Where a `$tag$ .. $tag$` body starting at `start` ends; `None` when the `$` starts no tag
/// (a positional parameter, `$1`).
fn dollar_quoted_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let tag_end = text[start + 1..]
        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .map(|n| start + 1 + n)?;
    if bytes[tag_end] != b'$' || bytes[start + 1].is_ascii_digit() {
        return None;
    }
    let tag = &text[start..=tag_end];
    Some(
        text[tag_end + 1..]
            .find(tag)
            .map_or(text.len(), |n| tag_end + 1 + n + tag.len()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::parse::parse_file;

    #[test]
    fn attaches_above_and_on_the_same_line() {
        let sql = "-- header\n\n-- dbrev:allow ALL001 archived in 2023\n-- more words\nDROP TABLE a;\nDROP TABLE b; -- dbrev:allow ALL001,PG007 gone\nSELECT '-- dbrev:allow X no';\n-- dbrev:allow ALL001\n\nDROP TABLE c;\n";
        let statements = parse_file(sql, Backend::Postgres).unwrap();
        let got = allows(sql, Backend::Postgres, &statements);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].statement, Some(0));
        assert_eq!(got[0].reason, "archived in 2023");
        assert_eq!((got[1].line, got[1].statement), (6, Some(1)));
        assert_eq!(got[1].rules, ["ALL001", "PG007"]);
        assert_eq!(got[2].reason, "");
        assert_eq!(got[2].statement, None, "a blank line separates it");
    }

    #[test]
    fn mysql_hash_and_block_comments() {
        let sql = "# dbrev:allow MY002 seed rows\nINSERT INTO t VALUES ('#');\n/* dbrev:allow ALL001 old */ DROP TABLE x;\n";
        let statements = parse_file(sql, Backend::Mysql).unwrap();
        let got = allows(sql, Backend::Mysql, &statements);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!((got[0].statement, got[1].statement), (Some(0), Some(1)));
        assert_eq!(got[1].reason, "old");
    }
}
