//! The keyword classifier: what lint makes of a statement the SQL parser cannot read
//! (`DROP INDEX CONCURRENTLY`, `REINDEX`, SQLite's `PRAGMA x = OFF`, MySQL's table
//! options…). It reads words, never fails, and says whether it understood the whole
//! statement; what it did not understand is reported as such, never skipped in silence.
//! It reads every backend's words whatever the revision's backend; the statements and
//! `ALTER TABLE` clauses only one backend writes are read by that backend's module
//! (`rules::<backend>`).

use super::facts::{Fact, OnlineClauses, Relation};
use super::rules::{mysql, postgres, sqlite};

/// What the classifier made of a statement.
#[derive(Debug, Default)]
pub struct Classified {
    /// What the statement does, as far as the words tell.
    pub facts: Vec<Fact>,
    /// Whether every part of the statement is accounted for.
    pub understood: bool,
}

/// One word or symbol of a statement.
#[derive(Debug, Clone)]
pub struct Token {
    /// The text (without quotes for quoted identifiers and strings).
    pub text: String,
    /// Upper case, for keywords; empty for quoted identifiers and strings.
    pub keyword: String,
}

impl Token {
    /// Whether the token is this keyword (upper case) or symbol.
    pub fn is(&self, keyword: &str) -> bool {
        self.keyword == keyword
    }
}

/// The keyword (or symbol) at `at`; empty past the end and for quoted text.
pub fn keyword_at(tokens: &[Token], at: usize) -> &str {
    tokens.get(at).map_or("", |t| t.keyword.as_str())
}

/// Splits a statement into words, quoted names, strings and single symbols.
pub(super) fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let end = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                .map_or(chars.len(), |j| j + 2);
            i = end;
        } else if matches!(c, '\'' | '"' | '`') {
            let mut text = String::new();
            let mut j = i + 1;
            while j < chars.len() {
                if chars[j] == c {
                    if chars.get(j + 1) == Some(&c) {
                        text.push(c);
                        j += 2;
                        continue;
                    }
                    break;
                }
                if chars[j] == '\\' && c == '\'' && j + 1 < chars.len() {
                    text.push(chars[j + 1]);
                    j += 2;
                    continue;
                }
                text.push(chars[j]);
                j += 1;
            }
            out.push(Token {
                text,
                keyword: String::new(),
            });
            i = j + 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '$')) {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            out.push(Token {
                keyword: text.to_ascii_uppercase(),
                text,
            });
        } else {
            out.push(Token {
                text: c.to_string(),
                keyword: c.to_string(),
            });
            i += 1;
        }
    }
    out
}

/// Reads a possibly qualified name at `at`; returns it and the index after it.
pub(super) fn relation_at(tokens: &[Token], at: usize) -> Option<(Relation, usize)> {
    let first = tokens.get(at)?;
    if first.text.is_empty()
        || (!first.keyword.is_empty()
            && !first
                .keyword
                .starts_with(|c: char| c.is_alphanumeric() || c == '_'))
    {
        return None;
    }
    if tokens.get(at + 1).is_some_and(|t| t.is(".")) {
        let second = tokens.get(at + 2)?;
        return Some((
            Relation {
                schema: Some(first.text.clone()),
                name: second.text.clone(),
            },
            at + 3,
        ));
    }
    Some((Relation::named(first.text.clone()), at + 1))
}

/// Whether a `lock_timeout` value turns the timeout on (`0` and `DEFAULT` turn it off).
pub fn lock_timeout_enabled(value: &str) -> bool {
    let value = value
        .trim()
        .trim_matches(|c| c == '\'' || c == '"')
        .trim()
        .to_ascii_lowercase();
    let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
    !(value.is_empty() || value == "default" || digits.parse::<u64>().is_ok_and(|n| n == 0))
}

/// Classifies a statement by its words.
pub fn classify(sql: &str) -> Classified {
    let tokens = tokenize(sql);
    let word = |i: usize| keyword_at(&tokens, i);
    let has = |keyword: &str| tokens.iter().any(|t| t.is(keyword));
    let understood = |facts: Vec<Fact>| Classified {
        facts,
        understood: true,
    };
    if sql.trim_start().starts_with("/*!") {
        // MySQL's versioned comments (mysqldump's session settings).
        return understood(Vec::new());
    }
    if let Some(pragma) = sqlite::pragma(&tokens) {
        return understood(vec![pragma]);
    }
    match word(0) {
        "SET" => {
            let mut i = 1;
            if matches!(word(i), "SESSION" | "LOCAL") {
                i += 1;
            }
            let name = tokens.get(i).map(|t| t.text.to_ascii_lowercase());
            if name.as_deref() == Some("lock_timeout") {
                let value_at = if matches!(word(i + 1), "=" | "TO") {
                    i + 2
                } else {
                    i + 1
                };
                let value = tokens.get(value_at).map_or("", |t| t.text.as_str());
                return understood(vec![Fact::SetLockTimeout {
                    enabled: lock_timeout_enabled(value),
                }]);
            }
            understood(Vec::new())
        }
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "VACUUM"
        | "ANALYZE" | "ANALYSE" | "CHECKPOINT" | "USE" => understood(Vec::new()),
        "REINDEX" => understood(vec![Fact::Reindex {
            concurrently: has("CONCURRENTLY"),
        }]),
        "CREATE" | "DROP" if word(1) == "STATISTICS" => understood(Vec::new()),
        "DROP" if word(1) == "INDEX" => understood(vec![Fact::DropIndex {
            concurrently: has("CONCURRENTLY"),
        }]),
        "CREATE" => Classified {
            facts: create_index(&tokens).into_iter().collect(),
            understood: false,
        },
        "ALTER" if word(1) == "TABLE" => alter_table(&tokens),
        "ALTER" if word(1) == "SEQUENCE" => understood(Vec::new()),
        _ => Classified::default(),
    }
}

/// Splits tokens at top-level commas.
fn clauses(tokens: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        match t.keyword.as_str() {
            "(" => depth += 1,
            ")" => depth = depth.saturating_sub(1),
            "," if depth == 0 => {
                out.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&tokens[start..]);
    out.retain(|c| !c.is_empty());
    out
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON [ONLY] table ...`.
fn create_index(tokens: &[Token]) -> Option<Fact> {
    let mut i = 1;
    if tokens.get(i)?.is("UNIQUE") {
        i += 1;
    }
    if !tokens.get(i)?.is("INDEX") {
        return None;
    }
    let on = tokens.iter().position(|t| t.is("ON"))?;
    let mut at = on + 1;
    if tokens.get(at).is_some_and(|t| t.is("ONLY")) {
        at += 1;
    }
    let (table, _) = relation_at(tokens, at)?;
    Some(Fact::CreateIndex {
        table,
        concurrently: tokens[..on].iter().any(|t| t.is("CONCURRENTLY")),
    })
}

/// `ALTER TABLE name` followed by clauses the parser does not read (MySQL's table options,
/// PostgreSQL's newest forms), each read by the backend that writes it.
fn alter_table(tokens: &[Token]) -> Classified {
    let mut at = 2;
    while tokens
        .get(at)
        .is_some_and(|t| t.is("IF") || t.is("EXISTS") || t.is("ONLY"))
    {
        at += 1;
    }
    let Some((table, i)) = relation_at(tokens, at) else {
        return Classified::default();
    };
    let mut online = OnlineClauses::default();
    let mut facts = Vec::new();
    let mut understood = true;
    for clause in clauses(&tokens[i..]) {
        understood &= mysql::table_clause(clause, &table, &mut online, &mut facts)
            || postgres::table_clause(clause, &table, &mut facts);
    }
    facts.insert(
        0,
        Fact::AlterTable {
            table,
            access_exclusive: true,
            online,
        },
    );
    Classified { facts, understood }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pragmas_with_keyword_values() {
        let c = classify("PRAGMA foreign_keys=OFF");
        assert!(c.understood);
        assert_eq!(
            c.facts,
            vec![Fact::Pragma {
                name: "foreign_keys".into(),
                value: Some("off".into())
            }]
        );
        let c = classify("PRAGMA main.foreign_key_check");
        assert_eq!(
            c.facts,
            vec![Fact::Pragma {
                name: "foreign_key_check".into(),
                value: None
            }]
        );
    }

    #[test]
    fn lock_timeouts() {
        assert!(lock_timeout_enabled("'5s'"));
        assert!(lock_timeout_enabled("5000"));
        assert!(!lock_timeout_enabled("0"));
        assert!(!lock_timeout_enabled("'0s'"));
        assert!(!lock_timeout_enabled("DEFAULT"));
        let c = classify("SET LOCAL lock_timeout TO '2s'");
        assert_eq!(c.facts, vec![Fact::SetLockTimeout { enabled: true }]);
    }

    #[test]
    fn statements_the_parser_lacks() {
        let c = classify("DROP INDEX CONCURRENTLY IF EXISTS idx");
        assert_eq!(c.facts, vec![Fact::DropIndex { concurrently: true }]);
        let c = classify("ALTER TABLE `t` CONVERT TO CHARACTER SET utf8mb4, ALGORITHM=COPY");
        assert!(c.understood);
        assert!(
            matches!(&c.facts[0], Fact::AlterTable { online, .. } if online.algorithm.as_deref() == Some("COPY"))
        );
        assert!(matches!(&c.facts[1], Fact::ConvertCharset { table } if table.name == "t"));
        let c = classify("ALTER TABLE t FROBNICATE");
        assert!(!c.understood);
        let c = classify("CREATE INDEX i ON ONLY s.t USING weird (x)");
        assert!(!c.understood);
        assert!(
            matches!(&c.facts[0], Fact::CreateIndex { table, concurrently: false } if table.to_string() == "s.t")
        );
        assert!(!classify("DO $$ BEGIN END $$").understood);
        let c = classify(
            "ALTER TABLE t ADD CONSTRAINT t_x_nn NOT NULL x, ALTER CONSTRAINT f NOT DEFERRABLE",
        );
        assert!(c.understood);
        assert!(matches!(&c.facts[1], Fact::SetNotNull { column, .. } if column == "x"));
        assert!(classify("ALTER SEQUENCE s OWNED BY t.id").understood);
    }
}
