//! ARCHITECTURE.md's invariants, checked rather than hoped for, by reading `dbkit/src`:
//! - backend-specific SQL (`PRAGMA`, `GET_LOCK`, `pg_*`, `information_schema`, `::` casts,
//!   backquoted identifiers, `DELIMITER`, `nextval(`…) lives only in the modules that speak
//!   for one backend, and no other module compares `Backend` values;
//! - no function is longer than [`MAX_FUNCTION_LINES`].
//!
//! Files that other work is changing right now still break them: each such place is listed
//! in [`KNOWN_SQL`] / [`KNOWN_LONG`] with why; the pass that moves it deletes its line, and
//! a line that is no longer needed fails the test, so the lists only shrink.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Modules that speak for one backend, where its SQL belongs (relative to `dbkit/src`,
/// `{b}` standing for `sqlite`, `postgres` and `mysql`), and the type table.
const BACKEND_MODULES: &[&str] = &[
    "dialect/{b}.rs",
    "inspect/{b}.rs",
    "inspect/{b}/",
    "export/{b}.rs",
    "export/{b}/",
    "lint/rules/{b}.rs",
    "sqltype.rs",
];

/// Spellings only one backend (or two of them) understands, searched in string literals
/// and `.sql` files (case-sensitive unless marked `(?i)`).
const BACKEND_SPELLINGS: &[&str] = &[
    "(?i)pragma",
    "(?i)sqlite_",
    "AUTO_INCREMENT",
    "GET_LOCK",
    "RELEASE_LOCK",
    "pg_",
    "information_schema",
    "(?i)current_schema",
    "DATABASE()",
    "nextval(",
    "_pkey",
    "DELIMITER",
];

/// diesel's own names that hold a backend prefix (print-schema settings, `sql_types`
/// attributes): vocabulary of schema.rs and diesel.toml, not SQL.
const DIESEL_WORDS: &[&str] = &[
    "sqlite_integer_primary_key_is_bigint",
    "pg_domains_as_custom_types",
    "sqlite_type",
];

/// Spellings searched only in literals that are SQL (they mean other things in messages).
/// A backquote counts where it quotes a name ([`backquotes_a_name`]).
const BACKEND_SPELLINGS_IN_SQL: &[&str] = &["::", BACKQUOTE];

/// MySQL's identifier quote.
const BACKQUOTE: &str = "`";

/// A comparison of backends outside the backend modules (`backend == Backend::Mysql`):
/// the difference belongs behind the `Dialect` trait.
const BACKEND_CHECK: &str = "Backend ==";

/// Places that still break the SQL invariant, each with the reason (none left: issue 13
/// moved the last ones behind the dialect and the backends' export modules).
const KNOWN_SQL: &[(&str, &str)] = &[];

/// The longest a function may be, signature to closing brace.
const MAX_FUNCTION_LINES: usize = 80;

/// Functions still longer than [`MAX_FUNCTION_LINES`], in files other work owns now; the
/// later pass of issue 13 splits them.
const KNOWN_LONG: &[(&str, &str)] = &[
    ("export/sqlite/mod.rs", "objects"),
    ("export/sqlite/mod.rs", "without_foreign_keys"),
];

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dbkit/src")
}

/// Every file below `dir`, as paths relative to `root`, sorted.
fn files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read dbkit/src")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(root, &path, out);
        } else {
            let relative = path.strip_prefix(root).expect("below root");
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn is_backend_module(file: &str) -> bool {
    BACKEND_MODULES.iter().any(|pattern| {
        ["sqlite", "postgres", "mysql"].iter().any(|b| {
            let pattern = pattern.replace("{b}", b);
            if pattern.ends_with('/') {
                file.starts_with(&pattern)
            } else {
                file == pattern
            }
        })
    })
}

/// Whether `text` holds `spelling` (`(?i)` prefix: ignoring case) outside diesel's words.
fn holds(text: &str, spelling: &str) -> bool {
    let text = DIESEL_WORDS
        .iter()
        .fold(text.to_owned(), |text, word| text.replace(word, ""));
    match spelling.strip_prefix("(?i)") {
        Some(s) => text.to_ascii_lowercase().contains(&s.to_ascii_lowercase()),
        None => text.contains(spelling),
    }
}

/// Whether `text` quotes a name in backquotes, MySQL's way (`` `posts` ``, `` `{}` ``): a
/// closed backquoted span without whitespace. A span with spaces is a message quoting a
/// statement or a command (`` `CREATE VIEW v AS SELECT * FROM t` ``), not SQL.
fn backquotes_a_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('`').collect();
    (1..parts.len().saturating_sub(1))
        .step_by(2)
        .any(|i| !parts[i].is_empty() && !parts[i].contains(char::is_whitespace))
}

/// Whether a string literal's text is SQL: it starts with a statement keyword or reads
/// `.. FROM ..` / `.. WHERE ..`.
fn is_sql(text: &str) -> bool {
    const STARTS: &[&str] = &[
        "SELECT ",
        "INSERT ",
        "UPDATE ",
        "DELETE ",
        "CREATE ",
        "ALTER ",
        "DROP ",
        "WITH ",
        "SET ",
        "SHOW ",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "LOCK ",
        "UNLOCK ",
        "RENAME ",
        "TRUNCATE ",
        "CALL ",
        "GRANT ",
    ];
    let text = text.trim_start();
    STARTS.iter().any(|s| text.starts_with(s))
        || text.contains(" FROM ")
        || text.contains(" WHERE ")
}

/// One place that breaks an invariant: `file:line`, what, and the text.
struct Finding {
    file: String,
    line: usize,
    what: String,
    text: String,
}

/// The string literals and token windows of production code (doc comments and
/// `#[cfg(test)]` items left out), flattened.
fn production_tokens(stream: TokenStream, out: &mut Vec<TokenTree>) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        // `#[..]` or `#![..]`: the attribute's group comes one token later after `!`.
        let inner = matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
        let group_at = i + 1 + usize::from(inner);
        if let (TokenTree::Punct(p), Some(TokenTree::Group(g))) = (&tokens[i], tokens.get(group_at))
            && p.as_char() == '#'
            && g.delimiter() == Delimiter::Bracket
        {
            let attribute = g.stream().to_string().replace(' ', "");
            if attribute == "cfg(test)" {
                // Skip the item: up to and including its `{ .. }` body or its `;`.
                i = group_at + 1;
                while i < tokens.len() {
                    match &tokens[i] {
                        TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => break,
                        TokenTree::Punct(p) if p.as_char() == ';' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
                continue;
            }
            if attribute.starts_with("doc=") {
                i = group_at + 1;
                continue;
            }
        }
        match &tokens[i] {
            TokenTree::Group(g) => {
                out.push(TokenTree::Group(proc_macro2::Group::new(
                    g.delimiter(),
                    TokenStream::new(),
                )));
                production_tokens(g.stream(), out);
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
}

/// The text of a string literal token (`"…"`, `r#"…"#`, `b"…"`), escapes as written.
fn string_literal(token: &TokenTree) -> Option<(String, usize)> {
    let TokenTree::Literal(lit) = token else {
        return None;
    };
    let text = lit.to_string();
    let body = text.trim_start_matches(['b', 'c', 'r', '#']);
    body.starts_with('"').then(|| {
        (
            body.trim_end_matches('#').trim_matches('"').to_owned(),
            lit.span().start().line,
        )
    })
}

fn sql_findings(file: &str, text: &str, out: &mut Vec<Finding>) {
    let mut found = |line: usize, what: &str, text: &str| {
        out.push(Finding {
            file: file.to_owned(),
            line,
            what: what.to_owned(),
            text: text.chars().take(80).collect(),
        });
    };
    if file.ends_with(".sql") {
        for spelling in BACKEND_SPELLINGS.iter().chain(BACKEND_SPELLINGS_IN_SQL) {
            if holds(text, spelling) {
                found(1, spelling, file);
            }
        }
        return;
    }
    if !file.ends_with(".rs") {
        return;
    }
    let stream = TokenStream::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut tokens = Vec::new();
    production_tokens(stream, &mut tokens);
    for (i, token) in tokens.iter().enumerate() {
        if let Some((literal, line)) = string_literal(token) {
            for spelling in BACKEND_SPELLINGS {
                if holds(&literal, spelling) {
                    found(line, spelling, &literal);
                }
            }
            if is_sql(&literal) {
                for spelling in BACKEND_SPELLINGS_IN_SQL {
                    let quotes = match *spelling {
                        BACKQUOTE => backquotes_a_name(&literal),
                        other => holds(&literal, other),
                    };
                    if quotes {
                        found(line, spelling, &literal);
                    }
                }
            }
        }
        // `Backend :: Variant` next to `==` / `!=`, either side.
        if let TokenTree::Ident(ident) = token
            && ident == "Backend"
            && matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == ':')
        {
            let is_comparison = |a: Option<&TokenTree>, b: Option<&TokenTree>| {
                matches!((a, b), (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                    if (a.as_char() == '=' || a.as_char() == '!') && b.as_char() == '=')
            };
            let before = is_comparison(
                i.checked_sub(2).and_then(|j| tokens.get(j)),
                i.checked_sub(1).and_then(|j| tokens.get(j)),
            );
            let after = is_comparison(tokens.get(i + 4), tokens.get(i + 5));
            if before || after {
                found(
                    ident.span().start().line,
                    BACKEND_CHECK,
                    &tokens[i + 3].to_string(),
                );
            }
        }
    }
}

fn long_functions(file: &str, text: &str, out: &mut Vec<Finding>) {
    if !file.ends_with(".rs") {
        return;
    }
    let parsed = syn::parse_file(text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut check = |name: String, sig: &syn::Signature, block: &syn::Block| {
        let start = sig.fn_token.span.start().line;
        let end = block.brace_token.span.close().end().line;
        let lines = end + 1 - start;
        if lines > MAX_FUNCTION_LINES {
            out.push(Finding {
                file: file.to_owned(),
                line: start,
                what: name,
                text: format!("{lines} lines"),
            });
        }
    };
    let mut items: Vec<&syn::Item> = parsed.items.iter().collect();
    while let Some(item) = items.pop() {
        match item {
            syn::Item::Fn(f) => check(f.sig.ident.to_string(), &f.sig, &f.block),
            syn::Item::Impl(block) => {
                for member in &block.items {
                    if let syn::ImplItem::Fn(f) = member {
                        check(f.sig.ident.to_string(), &f.sig, &f.block);
                    }
                }
            }
            syn::Item::Trait(t) => {
                for member in &t.items {
                    if let syn::TraitItem::Fn(f) = member
                        && let Some(block) = &f.default
                    {
                        check(f.sig.ident.to_string(), &f.sig, block);
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    items.extend(inner.iter());
                }
            }
            _ => {}
        }
    }
}

/// Fails with every finding not in `known`, and every `known` entry nothing matched.
fn judge(findings: &[Finding], known: &[(&str, &str)], rule: &str) {
    let is_known = |f: &Finding| {
        known
            .iter()
            .any(|(file, what)| f.file == *file && f.what == *what)
    };
    let mut report: Vec<String> = findings
        .iter()
        .filter(|f| !is_known(f))
        .map(|f| format!("dbkit/src/{}:{}: {}: {}", f.file, f.line, f.what, f.text))
        .collect();
    for (file, what) in known {
        if !findings.iter().any(|f| f.file == *file && f.what == *what) {
            report.push(format!("({file:?}, {what:?}) is listed as known but no longer found: delete it from the list"));
        }
    }
    assert!(report.is_empty(), "{rule}:\n{}", report.join("\n"));
}

fn read_sources() -> Vec<(String, String)> {
    let root = source_dir();
    let mut names = Vec::new();
    files(&root, &root, &mut names);
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(root.join(&name)).unwrap_or_default();
            (name, text)
        })
        .collect()
}

#[test]
fn backend_sql_lives_only_in_backend_modules() {
    let mut findings = Vec::new();
    for (file, text) in read_sources() {
        if !is_backend_module(&file) {
            sql_findings(&file, &text, &mut findings);
        }
    }
    judge(
        &findings,
        KNOWN_SQL,
        "backend-specific SQL outside dialect/<backend>, inspect/<backend>, export/<backend> and sqltype (move it behind the Dialect trait)",
    );
}

#[test]
fn no_function_is_longer_than_the_limit() {
    let mut findings = Vec::new();
    for (file, text) in read_sources() {
        long_functions(&file, &text, &mut findings);
    }
    judge(
        &findings,
        KNOWN_LONG,
        &format!("functions over {MAX_FUNCTION_LINES} lines (split them by what they decide)"),
    );
}

#[test]
fn the_checks_see_what_they_look_for() {
    let mut findings = Vec::new();
    let sample = "//! `PRAGMA` in a doc comment is prose.\n\
        fn f(backend: Backend) -> String {\n\
            if backend == Backend::Mysql { return \"SELECT GET_LOCK('x', 1)\".into(); }\n\
            format!(\"ALTER TABLE t ALTER COLUMN c TYPE int USING c::int\")\n\
        }\n\
        const SHOW: &str = \"SHOW CREATE TABLE `{}`\";\n\
        const SAY: &str = \"add the WHERE you mean, or `-- dbrev:allow ALL003 <why>`\";\n\
        #[cfg(test)]\nmod tests { const X: &str = \"PRAGMA foreign_keys\"; }\n";
    sql_findings("plan.rs", sample, &mut findings);
    let seen: Vec<(usize, &str)> = findings.iter().map(|f| (f.line, f.what.as_str())).collect();
    assert_eq!(
        seen,
        [(3, "Backend =="), (3, "GET_LOCK"), (4, "::"), (6, "`")]
    );
    assert!(
        is_backend_module("dialect/sqlite.rs") && is_backend_module("inspect/postgres/keys.sql")
    );
    assert!(!is_backend_module("dialect/mod.rs") && !is_backend_module("plan.rs"));
}
