//! SQL text as a snapshot compares it: comments dropped, whitespace collapsed (one space
//! between tokens, none inside parentheses, before commas or around dots), and — where
//! the backend ignores case (SQLite) — words and simple quoted identifiers folded to lower
//! case, so a view or trigger written twice in different layouts reads the same.

use crate::statements::quoted_end;

/// How one backend's SQL text is read.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqlText {
    /// Unquoted words, and quoted identifiers that need no quotes, compare without case.
    pub fold_case: bool,
    /// `#` starts a comment (MySQL).
    pub hash_comments: bool,
    /// A backslash escapes the next character inside a string (MySQL).
    pub backslash_escapes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Word(&'a str),
    Text(&'a str),
    Quoted(&'a str),
    Symbol(&'a str),
}

const OPERATOR: &[u8] = b"<>=!|&:+-*/%^~@?";

/// The text normalised for comparison (see the module's documentation).
pub fn normalise_sql(sql: &str, how: SqlText) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut previous: Option<Token<'_>> = None;
    for token in tokens(sql, how) {
        let glued_to_previous = matches!(previous, Some(Token::Symbol("(" | ".")) | None)
            || matches!(token, Token::Symbol("(" | ")" | "," | ";" | "."));
        if !glued_to_previous {
            out.push(' ');
        }
        match token {
            Token::Word(w) if how.fold_case => out.push_str(&w.to_ascii_lowercase()),
            Token::Quoted(q) if how.fold_case => out.push_str(&fold_quoted(q)),
            Token::Word(t) | Token::Text(t) | Token::Quoted(t) | Token::Symbol(t) => {
                out.push_str(t)
            }
        }
        previous = Some(token);
    }
    while out.ends_with(';') {
        out.pop();
    }
    out
}

/// `"Posts"` → `posts` where case is ignored and the name needs no quotes.
fn fold_quoted(quoted: &str) -> String {
    let inner = &quoted[1..quoted.len().saturating_sub(1).max(1)];
    let simple = inner
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if simple {
        inner.to_ascii_lowercase()
    } else {
        quoted.to_owned()
    }
}

fn tokens(sql: &str, how: SqlText) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        let end = match c {
            _ if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if next == Some(b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |e| i + e + 1);
                continue;
            }
            b'#' if how.hash_comments => {
                i = sql[i..].find('\n').map_or(bytes.len(), |e| i + e + 1);
                continue;
            }
            b'/' if next == Some(b'*') => {
                i = sql[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |e| i + 2 + e + 2);
                continue;
            }
            b'\'' => {
                let end = quoted_end(bytes, i, b'\'', true, how.backslash_escapes);
                out.push(Token::Text(&sql[i..end]));
                i = end;
                continue;
            }
            b'"' | b'`' => quoted_end(bytes, i, c, true, false),
            b'[' if how.fold_case => quoted_end(bytes, i, b']', false, false),
            _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                let mut j = i + 1;
                while j < bytes.len()
                    && (bytes[j].is_ascii_alphanumeric()
                        || bytes[j] == b'_'
                        || bytes[j] == b'$'
                        || bytes[j] >= 0x80)
                {
                    j += 1;
                }
                out.push(Token::Word(&sql[i..j]));
                i = j;
                continue;
            }
            _ if OPERATOR.contains(&c) => {
                let mut j = i + 1;
                while j < bytes.len()
                    && OPERATOR.contains(&bytes[j])
                    && !(bytes[j] == b'-' && bytes.get(j + 1) == Some(&b'-'))
                    && !(bytes[j] == b'/' && bytes.get(j + 1) == Some(&b'*'))
                {
                    j += 1;
                }
                out.push(Token::Symbol(&sql[i..j]));
                i = j;
                continue;
            }
            _ => {
                let width = sql[i..].chars().next().map_or(1, char::len_utf8);
                out.push(Token::Symbol(&sql[i..i + width]));
                i += width;
                continue;
            }
        };
        out.push(Token::Quoted(&sql[i..end]));
        i = end;
    }
    out
}

/// Short forms of two values that differ, for one line: each whole when short, else a
/// window around the first place they differ.
pub fn excerpt(left: &str, right: &str) -> (String, String) {
    const SHORT: usize = 60;
    if left.chars().count() <= SHORT && right.chars().count() <= SHORT {
        return (left.to_owned(), right.to_owned());
    }
    let first = left
        .char_indices()
        .zip(right.chars())
        .find(|((_, a), b)| a != b)
        .map_or_else(|| left.len().min(right.len()), |((i, _), _)| i);
    (window(left, first), window(right, first))
}

/// `…text around byte `at`…`.
fn window(text: &str, at: usize) -> String {
    let at = floor_char(text, at.min(text.len()));
    let start = floor_char(text, at.saturating_sub(25));
    let end = floor_char(text, (at + 35).min(text.len()));
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&text[start..end]);
    if end < text.len() {
        out.push('…');
    }
    out
}

fn floor_char(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQLITE: SqlText = SqlText {
        fold_case: true,
        hash_comments: false,
        backslash_escapes: false,
    };

    #[test]
    fn layout_and_comments_do_not_matter() {
        let a = normalise_sql(
            "CREATE VIEW v AS\n  SELECT id, t -- the text\n  FROM   torture WHERE id > 1;",
            SqlText::default(),
        );
        let b = normalise_sql(
            "CREATE VIEW v AS SELECT id,t FROM torture /* x */ WHERE id>1",
            SqlText::default(),
        );
        assert_eq!(a, b);
        assert_eq!(a, "CREATE VIEW v AS SELECT id, t FROM torture WHERE id > 1");
        assert_eq!(
            normalise_sql("f( a , b )::text", SqlText::default()),
            "f(a, b) :: text"
        );
    }

    #[test]
    fn strings_keep_their_spaces_and_case() {
        assert_eq!(
            normalise_sql("SELECT 'A  b' ,  \"Mixed  Case\"", SqlText::default()),
            "SELECT 'A  b', \"Mixed  Case\""
        );
        assert_eq!(
            normalise_sql(
                "select 'it\\'s  x' # note\n",
                SqlText {
                    hash_comments: true,
                    backslash_escapes: true,
                    ..SqlText::default()
                }
            ),
            "select 'it\\'s  x'"
        );
    }

    #[test]
    fn sqlite_folds_case_and_needless_quotes() {
        assert_eq!(
            normalise_sql("CREATE INDEX i ON \"w\"(X)", SQLITE),
            normalise_sql("create index I on [W] (x)", SQLITE)
        );
        assert_eq!(
            normalise_sql("SELECT \"two words\" FROM t", SQLITE),
            "select \"two words\" from t"
        );
    }

    #[test]
    fn long_values_are_shown_around_their_first_difference() {
        let a = format!("{}SELECT a FROM t{}", "x".repeat(100), "y".repeat(100));
        let b = format!("{}SELECT b FROM t{}", "x".repeat(100), "y".repeat(100));
        let (l, r) = excerpt(&a, &b);
        assert!(l.starts_with('…') && l.contains("SELECT a FROM t") && l.ends_with('…'));
        assert!(r.contains("SELECT b FROM t"));
        assert_eq!(excerpt("0", "1"), ("0".to_owned(), "1".to_owned()));
    }
}
