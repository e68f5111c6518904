//! A full catalog snapshot: every object of a database — schemas, extensions, types and
//! domains, sequences, tables, columns (with defaults), primary and unique keys, checks,
//! foreign keys, indexes, views, materialized views, functions, procedures, aggregates,
//! triggers, rules, policies, statistics, events, comments — as normalised definitions
//! keyed by kind and name, read with a fixed number of catalog queries through the same
//! per-backend readers the dump uses (`export::<backend>`).
//!
//! Two snapshots compare into differences a person can read ("index posts_author_idx:
//! only in the database"). What the server spells differently for the same thing (default
//! expressions, whitespace and comments in bodies, identifier quoting where case does not
//! matter) is normalised when the snapshot is built, so a database compared with itself,
//! or with a restore of its own dump, shows no difference. Column order is not compared:
//! a `down.sql` that puts back a dropped column can only append it.

mod text;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::db::Connection;
use crate::error::Result;

pub use text::{SqlText, excerpt, normalise_sql};

/// What an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A PostgreSQL schema.
    Schema,
    /// A PostgreSQL extension.
    Extension,
    /// An enum, composite or range type.
    Type,
    /// A domain.
    Domain,
    /// A sequence (identity sequences belong to their column).
    Sequence,
    /// A table (its options; columns and keys are objects of their own).
    Table,
    /// A column of a table.
    Column,
    /// A primary key.
    PrimaryKey,
    /// A unique key or unique constraint.
    UniqueKey,
    /// A check constraint.
    Check,
    /// A foreign key.
    ForeignKey,
    /// An exclusion constraint.
    Exclusion,
    /// An index that no key owns.
    Index,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A function.
    Function,
    /// A procedure.
    Procedure,
    /// An aggregate.
    Aggregate,
    /// A trigger.
    Trigger,
    /// A rewrite rule.
    Rule,
    /// A row-level security policy.
    Policy,
    /// Extended statistics.
    Statistics,
    /// A scheduled event (MySQL).
    Event,
    /// A comment on an object.
    Comment,
}

impl ObjectKind {
    /// How a person calls it: `primary key`, `materialized view`.
    pub fn label(self) -> &'static str {
        match self {
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
            ObjectKind::Type => "type",
            ObjectKind::Domain => "domain",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::PrimaryKey => "primary key",
            ObjectKind::UniqueKey => "unique key",
            ObjectKind::Check => "check",
            ObjectKind::ForeignKey => "foreign key",
            ObjectKind::Exclusion => "exclusion constraint",
            ObjectKind::Index => "index",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Aggregate => "aggregate",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Rule => "rule",
            ObjectKind::Policy => "policy",
            ObjectKind::Statistics => "statistics",
            ObjectKind::Event => "event",
            ObjectKind::Comment => "comment",
        }
    }
}

/// An object's identity: its kind and its name (`posts.title` for a column, a constraint
/// or a trigger of `posts`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectId {
    /// The kind.
    pub kind: ObjectKind,
    /// The name, qualified by its table where the name is the table's own.
    pub name: String,
}

/// One object's normalised definition, attribute by attribute (`type`, `default`,
/// `definition`…), and the table it belongs to, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Object {
    /// The table (or view) it belongs to: columns, keys, indexes, triggers, comments on them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Its definition, one attribute a key.
    pub attributes: BTreeMap<&'static str, String>,
}

impl Object {
    /// Sets an attribute.
    pub fn set(&mut self, key: &'static str, value: impl Into<String>) -> &mut Self {
        self.attributes.insert(key, value.into());
        self
    }

    /// Sets an attribute when there is a value (an absent one is not written).
    pub fn set_some(&mut self, key: &'static str, value: Option<impl Into<String>>) -> &mut Self {
        if let Some(value) = value {
            self.attributes.insert(key, value.into());
        }
        self
    }

    /// Sets a yes/no attribute only when it is yes.
    pub fn flag(&mut self, key: &'static str, on: bool) -> &mut Self {
        if on {
            self.attributes.insert(key, "yes".into());
        }
        self
    }
}

/// Every object of a database.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    /// The objects, by kind and name.
    pub objects: BTreeMap<ObjectId, Object>,
    /// How many catalog queries reading it took (a fixed number per backend).
    #[serde(skip)]
    pub queries: usize,
}

impl Snapshot {
    /// Reads the connected database's catalog (see [`SnapshotReader`] to read it again and
    /// again on the same sessions).
    pub fn read(conn: &mut Connection) -> Result<Snapshot> {
        SnapshotReader::new(conn)?.read(conn)
    }

    /// Adds an object (a second one with the same kind and name gets ` (2)`, ` (3)`…).
    pub fn add(&mut self, kind: ObjectKind, name: impl Into<String>) -> &mut Object {
        let name = name.into();
        let mut id = ObjectId {
            kind,
            name: name.clone(),
        };
        let mut n = 2;
        while self.objects.contains_key(&id) {
            id.name = format!("{name} ({n})");
            n += 1;
        }
        self.objects.entry(id).or_default()
    }

    /// Adds an object that belongs to `table`.
    pub fn add_on(
        &mut self,
        kind: ObjectKind,
        name: impl Into<String>,
        table: &str,
    ) -> &mut Object {
        let object = self.add(kind, name);
        object.table = Some(table.to_owned());
        object
    }

    /// The snapshot without these tables and what belongs to them (dbrev's own tables,
    /// whose rows differ by design).
    pub fn without_tables(mut self, tables: &[&str]) -> Snapshot {
        let gone = |name: &str| tables.iter().any(|t| name == *t || unquoted(name) == *t);
        self.objects.retain(|id, object| {
            let own_table = id.kind == ObjectKind::Table && gone(&id.name);
            let belongs = object.table.as_deref().is_some_and(gone);
            !own_table && !belongs
        });
        self
    }

    /// The tables it holds, by name.
    pub fn tables(&self) -> Vec<&str> {
        self.objects
            .keys()
            .filter(|id| id.kind == ObjectKind::Table)
            .map(|id| id.name.as_str())
            .collect()
    }

    /// Whether it holds no object besides `allowed` kinds (a PostgreSQL database's
    /// `public` schema, for instance).
    pub fn is_empty_but(&self, allowed: &[ObjectId]) -> bool {
        self.objects.keys().all(|id| allowed.contains(id))
    }
}

/// The names `text` quotes with `quote` (a doubled quote inside is one), read without
/// regard to string literals or comments: a name too many does no harm.
fn quoted_names(text: &str, quote: char) -> Vec<String> {
    let mut names = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != quote {
            continue;
        }
        let mut name = String::new();
        while let Some(c) = chars.next() {
            if c != quote {
                name.push(c);
            } else if chars.peek() == Some(&quote) {
                name.push(quote);
                chars.next();
            } else {
                break;
            }
        }
        names.push(name);
    }
    names
}

/// `"Posts"` → `Posts`, `` `t` `` → `t`; other names as they are.
fn unquoted(name: &str) -> &str {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(b'"'), Some(b'"')) | (Some(b'`'), Some(b'`')) if name.len() >= 2 => {
            &name[1..name.len() - 1]
        }
        _ => name,
    }
}

/// A hash of what a snapshot compares, read with one catalog query (two on MySQL when
/// scoped): two databases with the same fingerprint read as the same snapshot, so a
/// comparison that expects no difference (the stairway of `cargo dbrev test`) reads
/// fingerprints and reads full snapshots only to say what differs. The converse does not
/// hold: different fingerprints may still read as the same snapshot (a spelling the
/// snapshot normalises), which only the snapshots can tell.
///
/// A fingerprint [`within`](SnapshotReader::fingerprint_within) a [`Scope`] covers only
/// the relations some SQL names, and compares only with one read within the same scope.
#[derive(Debug, Clone, Eq)]
pub struct Fingerprint {
    /// The hash, as the server (or, on SQLite, dbrev) computed it.
    pub hash: String,
    /// How many catalog queries reading it took (a fixed number, however many objects
    /// there are).
    pub queries: usize,
    /// Whether it covers only a scope's relations (else every object).
    pub scoped: bool,
    /// For a scoped one: the server holds what the SQL could reach beyond the words it
    /// names (event triggers, a routine it names, triggers its row changes fire), so only
    /// a fingerprint of every object can say what the SQL did.
    pub reaches_further: bool,
}

impl PartialEq for Fingerprint {
    fn eq(&self, other: &Fingerprint) -> bool {
        self.hash == other.hash && self.scoped == other.scoped
    }
}

/// The words of some SQL (a revision's up.sql and down.sql), for a [`Fingerprint`] of what
/// it can change: every run of letters, digits, `_` and `$` — in comments and literals
/// too — and every quoted name whole, each as written and in lower case. A backend reads
/// only the relations the words name, with what belongs to them, unless a word says the
/// SQL reaches further than its names (it runs code, cascades, renames: a list per
/// backend); then it reads every object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    words: std::collections::BTreeSet<String>,
}

impl Scope {
    /// The words of these SQL texts.
    pub fn of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Scope {
        let mut words = std::collections::BTreeSet::new();
        let mut add = |word: &str| {
            if !word.is_empty() {
                words.insert(word.to_lowercase());
                words.insert(word.to_owned());
            }
        };
        for text in texts {
            for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')) {
                add(word);
            }
            for quote in ['"', '`'] {
                for name in quoted_names(text, quote) {
                    add(&name);
                }
            }
        }
        Scope { words }
    }

    /// The words, each as written and in lower case.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.words.iter().map(String::as_str)
    }

    /// Whether one of the words is one of `keywords` (upper case), in any case.
    pub(crate) fn has_any(&self, keywords: &[&str]) -> bool {
        self.words
            .iter()
            .any(|w| keywords.iter().any(|k| w.eq_ignore_ascii_case(k)))
    }
}

/// Reads snapshots of one database, keeping the catalog session (and its prepared
/// queries) open between reads: the stairway of `cargo dbrev test` reads a fingerprint
/// twice per revision, and snapshots where they differ.
pub struct SnapshotReader {
    session: crate::export::CatalogSession,
}

impl SnapshotReader {
    /// Opens the catalog session for the connected database.
    pub fn new(conn: &Connection) -> Result<SnapshotReader> {
        Ok(SnapshotReader {
            session: crate::export::CatalogSession::open(conn)?,
        })
    }

    /// Reads every object, in a fixed number of catalog queries.
    pub fn read(&mut self, conn: &mut Connection) -> Result<Snapshot> {
        self.session.snapshot(conn)
    }

    /// Reads the [`Fingerprint`] of every object, in one query.
    pub fn fingerprint(&mut self, conn: &mut Connection) -> Result<Fingerprint> {
        self.session.fingerprint(conn, None)
    }

    /// Reads the [`Fingerprint`] of what SQL with these words can change: scoped, unless
    /// a word says the SQL reaches further than its names (or the backend reads every
    /// object anyway: SQLite's catalog is one cheap query).
    pub fn fingerprint_within(
        &mut self,
        conn: &mut Connection,
        scope: &Scope,
    ) -> Result<Fingerprint> {
        self.session.fingerprint(conn, Some(scope))
    }
}

/// How two snapshots differ on one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// The object exists only on the left.
    OnlyLeft,
    /// The object exists only on the right.
    OnlyRight,
    /// Both have it; this attribute differs (`None`: not set on that side).
    Differs {
        /// The attribute (`default`, `type`, `definition`…).
        attribute: String,
        /// Its value on the left.
        left: Option<String>,
        /// Its value on the right.
        right: Option<String>,
    },
}

/// One difference between two snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The object.
    #[serde(flatten)]
    pub object: ObjectId,
    /// How it differs.
    #[serde(flatten)]
    pub change: Change,
}

/// How the two sides of a comparison are named in a sentence: `in the database`,
/// `in its revisions`.
#[derive(Debug, Clone, Copy)]
pub struct Sides {
    /// The left snapshot's phrase.
    pub left: &'static str,
    /// The right snapshot's phrase.
    pub right: &'static str,
}

impl Difference {
    /// `index posts_author_idx: only in the database`, `column posts.title: default 'x'
    /// in the database, 'y' in its revisions`.
    pub fn describe(&self, sides: &Sides) -> String {
        let what = format!("{} {}", self.object.kind.label(), self.object.name);
        match &self.change {
            Change::OnlyLeft => format!("{what}: only {}", sides.left),
            Change::OnlyRight => format!("{what}: only {}", sides.right),
            Change::Differs {
                attribute,
                left,
                right,
            } => {
                let (left, right) = match (left, right) {
                    (Some(l), Some(r)) => excerpt(l, r),
                    (l, r) => (shown(l.as_deref()), shown(r.as_deref())),
                };
                format!(
                    "{what}: {attribute} {left} {}, {right} {}",
                    sides.left, sides.right
                )
            }
        }
    }
}

fn shown(value: Option<&str>) -> String {
    match value {
        Some(v) => excerpt(v, v).0,
        None => "none".into(),
    }
}

/// The differences between two snapshots, in kind and name order.
pub fn compare(left: &Snapshot, right: &Snapshot) -> Vec<Difference> {
    let mut out = Vec::new();
    for (id, l) in &left.objects {
        match right.objects.get(id) {
            None => out.push(Difference {
                object: id.clone(),
                change: Change::OnlyLeft,
            }),
            Some(r) => {
                let keys: std::collections::BTreeSet<&&str> =
                    l.attributes.keys().chain(r.attributes.keys()).collect();
                for key in keys {
                    let (a, b) = (l.attributes.get(*key), r.attributes.get(*key));
                    if a != b {
                        out.push(Difference {
                            object: id.clone(),
                            change: Change::Differs {
                                attribute: (*key).to_owned(),
                                left: a.cloned(),
                                right: b.cloned(),
                            },
                        });
                    }
                }
            }
        }
    }
    for id in right.objects.keys() {
        if !left.objects.contains_key(id) {
            out.push(Difference {
                object: id.clone(),
                change: Change::OnlyRight,
            });
        }
    }
    out.sort_by(|a, b| a.object.cmp(&b.object));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Objects<'a> = [(ObjectKind, &'a str, &'a [(&'static str, &'a str)])];

    fn snapshot(objects: &Objects<'_>) -> Snapshot {
        let mut s = Snapshot::default();
        for (kind, name, attributes) in objects {
            let o = s.add(*kind, *name);
            for (k, v) in *attributes {
                o.set(k, *v);
            }
        }
        s
    }

    const SIDES: Sides = Sides {
        left: "in the database",
        right: "in its revisions",
    };

    #[test]
    fn differences_read_as_sentences() {
        let db = snapshot(&[
            (
                ObjectKind::Index,
                "posts_author_idx",
                &[("definition", "x")],
            ),
            (
                ObjectKind::Column,
                "posts.title",
                &[("default", "'x'"), ("type", "text")],
            ),
        ]);
        let replay = snapshot(&[
            (
                ObjectKind::Column,
                "posts.title",
                &[("default", "'y'"), ("type", "text")],
            ),
            (ObjectKind::Trigger, "posts.touch", &[]),
        ]);
        let found: Vec<String> = compare(&db, &replay)
            .iter()
            .map(|d| d.describe(&SIDES))
            .collect();
        assert_eq!(
            found,
            [
                "column posts.title: default 'x' in the database, 'y' in its revisions",
                "index posts_author_idx: only in the database",
                "trigger posts.touch: only in its revisions",
            ]
        );
        assert!(compare(&db, &db).is_empty());
    }

    #[test]
    fn an_attribute_set_on_one_side_only_differs() {
        let a = snapshot(&[(ObjectKind::Column, "t.c", &[("default", "0")])]);
        let b = snapshot(&[(ObjectKind::Column, "t.c", &[])]);
        assert_eq!(
            compare(&a, &b)[0].describe(&SIDES),
            "column t.c: default 0 in the database, none in its revisions"
        );
    }

    #[test]
    fn own_tables_go_with_what_belongs_to_them() {
        let mut s = Snapshot::default();
        s.add(ObjectKind::Table, "__diesel_schema_migrations");
        s.add_on(
            ObjectKind::Column,
            "__diesel_schema_migrations.version",
            "__diesel_schema_migrations",
        );
        s.add(ObjectKind::Table, "\"__dbrev_revisions\"");
        s.add(ObjectKind::Table, "posts");
        let s = s.without_tables(&["__diesel_schema_migrations", "__dbrev_revisions"]);
        assert_eq!(s.tables(), ["posts"]);
        assert_eq!(s.objects.len(), 1);
    }

    #[test]
    fn names_taken_twice_are_numbered() {
        let mut s = Snapshot::default();
        s.add(ObjectKind::Check, "t: CHECK (a > 0)");
        s.add(ObjectKind::Check, "t: CHECK (a > 0)");
        let names: Vec<&str> = s.objects.keys().map(|id| id.name.as_str()).collect();
        assert_eq!(names, ["t: CHECK (a > 0)", "t: CHECK (a > 0) (2)"]);
    }

    #[test]
    fn a_scope_holds_every_word_as_written_and_in_lower_case() {
        let scope = Scope::of([
            "-- Add posts\nALTER TABLE \"Posts\" ADD COLUMN n INTEGER DEFAULT 'x y';",
            "DROP INDEX `odd ``name`` here`; SELECT \"a\"\"b\", $1;",
        ]);
        let words: Vec<&str> = scope.words().collect();
        for word in [
            "Add",
            "add",
            "posts",
            "Posts",
            "ALTER",
            "alter",
            "n",
            "x",
            "y",
            "odd",
            "odd `name` here",
            "a\"b",
            "$1",
        ] {
            assert!(words.contains(&word), "{word}: {words:?}");
        }
        assert!(scope.has_any(&["RENAME", "DEFAULT"]));
        assert!(!scope.has_any(&["RENAME"]));
    }

    #[test]
    fn fingerprints_compare_by_hash_within_the_same_scope() {
        let print = |hash: &str, queries, scoped| Fingerprint {
            hash: hash.into(),
            queries,
            scoped,
            reaches_further: false,
        };
        assert_eq!(print("a", 1, true), print("a", 2, true));
        assert_ne!(print("a", 1, true), print("a", 1, false));
        assert_ne!(print("a", 1, false), print("b", 1, false));
    }

    #[test]
    fn json_names_the_change() {
        let d = Difference {
            object: ObjectId {
                kind: ObjectKind::MaterializedView,
                name: "m".into(),
            },
            change: Change::Differs {
                attribute: "definition".into(),
                left: Some("a".into()),
                right: None,
            },
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"kind":"materialized_view","name":"m","change":"differs","attribute":"definition","left":"a","right":null}"#
        );
    }
}
