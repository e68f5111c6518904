//! PostgreSQL's catalog as a [`Snapshot`]: the rows the dump reads ([`super::catalog`]),
//! without its dependencies and locks, made into one object per schema, extension, type,
//! domain (and its checks), routine, aggregate, sequence, table, column, constraint,
//! index, view, trigger, rule, statistics object, policy and comment. The server renders
//! every definition (`pg_get_*def`, `format_type`), so only defaults need normalising.

use std::collections::HashMap;

use super::catalog::{Catalog, ColumnRow, ConstraintRow, SequenceRow, TableRow, TypeRow};
use crate::error::{Error, Result};
use crate::export::session::RawPostgres;
use crate::snapshot::{Fingerprint, Object, ObjectKind, Scope, Snapshot, SqlText, normalise_sql};

/// Words after which SQL may change more than the relations and types it names (it runs
/// code that could, cascades, renames, or changes routines, schemas, extensions, rules or
/// statistics), so that a fingerprint within its scope could miss a change: with one of
/// them the whole catalog is read. (Code it calls by name is caught by the server: a word
/// that names a routine.)
const REACHES_FURTHER: &[&str] = &[
    "EXECUTE",
    "FUNCTION",
    "PROCEDURE",
    "AGGREGATE",
    "ROUTINE",
    "TRIGGER",
    "RULE",
    "EVENT",
    "CASCADE",
    "RENAME",
    "SCHEMA",
    "EXTENSION",
    "STATISTICS",
    "OWNED",
    "REASSIGN",
    "IMPORT",
    "LOAD",
    "LANGUAGE",
];

/// Words of statements that change rows, which fire triggers and rules.
const CHANGES_ROWS: &[&str] = &["INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "TRUNCATE"];

/// The fingerprint's query, its scope a parameter.
const FINGERPRINT: &str = include_str!("queries/fingerprint.sql");

/// The fingerprint's query for every object: its own statement, planned for that (a plan
/// made for both would scan like the one and look up like the other).
static EVERY_OBJECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    FINGERPRINT
        .replace("$1::text[]", "NULL::text[]")
        .replace("$2::bool", "false")
});

/// A catalog session: the snapshot's and the fingerprint's queries prepared once each,
/// planned once (generic plans: the scope of a fingerprint is a parameter), never compiled
/// (JIT takes longer than these queries run).
pub(crate) struct SnapshotSession {
    session: RawPostgres,
}

impl SnapshotSession {
    /// A catalog session on an open connection (the settings only where the server has
    /// them).
    pub(crate) fn new(mut session: RawPostgres) -> Result<SnapshotSession> {
        session
            .batch_execute(
                "SELECT set_config(name, CASE name WHEN 'jit' THEN 'off' ELSE 'force_generic_plan' END, false) \
                 FROM pg_settings WHERE name IN ('jit', 'plan_cache_mode')",
            )
            .map_err(|e| Error::Query {
                context: "setting up the catalog session".into(),
                message: e.to_string(),
            })?;
        Ok(SnapshotSession { session })
    }
}

/// Reads the catalog's fingerprint on a catalog session: one prepared query
/// (`queries/fingerprint.sql`), the hash computed by the server; within `scope` when its
/// words allow.
pub(crate) fn fingerprint(
    catalog: &mut SnapshotSession,
    scope: Option<&Scope>,
) -> Result<Fingerprint> {
    let failed = |message: String| Error::Query {
        context: "reading the catalog's fingerprint".into(),
        message,
    };
    let scope = scope.filter(|s| !s.has_any(REACHES_FURTHER));
    let rows = match scope {
        Some(scope) => {
            let words: Vec<&str> = scope.words().collect();
            let changes_rows = scope.has_any(CHANGES_ROWS);
            catalog
                .session
                .prepared_rows_with(FINGERPRINT, &[&words, &changes_rows])
        }
        None => catalog.session.prepared_rows(&EVERY_OBJECT),
    }
    .map_err(|e| failed(e.to_string()))?;
    let row = rows
        .first()
        .ok_or_else(|| failed("the server returned no hash".into()))?;
    let flag = |column: &str| row.try_get::<_, bool>(column).unwrap_or(true);
    let hash = row
        .try_get::<_, String>("hash")
        .map_err(|e| failed(e.to_string()))?;
    Ok(Fingerprint {
        hash,
        queries: 1,
        scoped: scope.is_some(),
        reaches_further: scope.is_some()
            && (flag("event_triggers") || flag("names_a_routine") || flag("fires_code")),
    })
}

/// Reads a snapshot on a catalog session.
pub(crate) fn snapshot(session: &mut SnapshotSession) -> Result<Snapshot> {
    let (catalog, queries) = Catalog::read_for_snapshot(&mut session.session)?;
    let mut s = Snapshot {
        queries,
        ..Snapshot::default()
    };
    for row in &catalog.schemas {
        s.add(ObjectKind::Schema, &row.name);
    }
    for row in &catalog.extensions {
        s.add(ObjectKind::Extension, &row.name)
            .set("schema", &row.schema);
    }
    let domain_checks = by_key(&catalog.constraints, |k| k.domain);
    for row in &catalog.types {
        user_type(
            &mut s,
            row,
            domain_checks.get(&row.oid).map_or(&[][..], Vec::as_slice),
        );
    }
    routines(&mut s, &catalog);
    for row in catalog
        .sequences
        .iter()
        .filter(|r| r.owner_kind.as_deref() != Some("i"))
    {
        s.add(ObjectKind::Sequence, &row.name)
            .set("type", &row.type_name)
            .set("options", &row.options)
            .set_some("owned by", row.owned_by.as_deref());
    }
    tables(&mut s, &catalog);
    relation_objects(&mut s, &catalog);
    for row in &catalog.comments {
        let (target, text) = row
            .statement
            .split_once(" IS ")
            .unwrap_or((&row.statement, ""));
        let target = target.trim_start_matches("COMMENT ON ");
        s.add(ObjectKind::Comment, target).set("text", text);
    }
    Ok(s)
}

/// Rows grouped by the object a column names.
fn by_key<T>(rows: &[T], key: impl Fn(&T) -> Option<u32>) -> HashMap<u32, Vec<&T>> {
    let mut out: HashMap<u32, Vec<&T>> = HashMap::new();
    for row in rows {
        if let Some(k) = key(row) {
            out.entry(k).or_default().push(row);
        }
    }
    out
}

fn user_type(s: &mut Snapshot, row: &TypeRow, checks: &[&ConstraintRow]) {
    if row.kind == "d" {
        s.add(ObjectKind::Domain, &row.name)
            .set_some("base", row.base.as_deref())
            .set_some("collation", row.collation.as_deref())
            .set_some("default", row.default_value.as_deref().map(default_value))
            .flag("not null", row.not_null);
        for k in checks {
            s.add(ObjectKind::Check, format!("{}.{}", row.name, k.name))
                .set("definition", &k.definition);
        }
        return;
    }
    let o = s.add(ObjectKind::Type, &row.name);
    match row.kind.as_str() {
        "e" => o.set("enum", row.labels.as_deref().unwrap_or_default()),
        "c" => o.set("composite", row.attributes.as_deref().unwrap_or_default()),
        _ => o
            .set("range of", row.subtype.as_deref().unwrap_or_default())
            .set_some("operator class", row.opclass.as_deref())
            .set_some("collation", row.range_collation.as_deref())
            .set_some("canonical", row.canonical.as_deref())
            .set_some("subtype diff", row.subdiff.as_deref())
            .set_some("multirange", row.multirange.as_deref()),
    };
}

fn routines(s: &mut Snapshot, catalog: &Catalog) {
    for row in &catalog.functions {
        let kind = if row.kind == "p" {
            ObjectKind::Procedure
        } else {
            ObjectKind::Function
        };
        s.add(kind, &row.name)
            .set("definition", normalise_sql(&row.ddl, SqlText::default()));
    }
    for row in &catalog.aggregates {
        s.add(
            ObjectKind::Aggregate,
            format!("{}({})", row.name, row.identity),
        )
        .set("options", &row.options);
    }
}

fn tables(s: &mut Snapshot, catalog: &Catalog) {
    let columns = by_key(&catalog.columns, |c| Some(c.relation));
    let identities: HashMap<(u32, u32), &SequenceRow> = catalog
        .sequences
        .iter()
        .filter(|q| q.owner_kind.as_deref() == Some("i"))
        .filter_map(|q| Some(((q.owner?, q.owner_column?), q)))
        .collect();
    for t in &catalog.tables {
        table(s, t);
        for c in columns.get(&t.oid).into_iter().flatten() {
            column(s, t, c, identities.get(&(t.oid, c.number)).copied());
        }
    }
}

fn table(s: &mut Snapshot, t: &TableRow) {
    let o = s.add(ObjectKind::Table, &t.name);
    o.flag("partitioned", t.kind == "p")
        .flag("unlogged", t.persistence == "u")
        .set_some("partition key", t.partition_key.as_deref())
        .set_some("options", t.options.as_deref())
        .flag("row level security", t.row_security)
        .flag("forced row level security", t.force_row_security);
    if t.is_partition {
        o.set_some("partition of", t.parent.as_deref())
            .set_some("bound", t.bound.as_deref());
    } else {
        o.set_some("inherits", t.inherits.as_deref());
    }
}

fn column(s: &mut Snapshot, t: &TableRow, c: &ColumnRow, identity: Option<&SequenceRow>) {
    let o: &mut Object = s.add_on(
        ObjectKind::Column,
        format!("{}.{}", t.name, c.name),
        &t.name,
    );
    o.set("type", &c.type_name)
        .set_some("collation", c.collation.as_deref())
        .flag("not null", c.not_null);
    match (c.identity.as_str(), c.generated.as_str()) {
        ("a" | "d", _) => {
            let when = if c.identity == "a" {
                "always"
            } else {
                "by default"
            };
            let sequence = identity
                .map(|q| format!(" ({} {})", q.name, q.options))
                .unwrap_or_default();
            o.set("identity", format!("{when}{sequence}"));
        }
        (_, "s") => {
            o.set_some("generated", c.default_value.as_deref());
        }
        _ => {
            o.set_some("default", c.default_value.as_deref().map(default_value));
        }
    }
}

fn relation_objects(s: &mut Snapshot, catalog: &Catalog) {
    let tables: HashMap<u32, &TableRow> = catalog.tables.iter().map(|t| (t.oid, t)).collect();
    for k in &catalog.constraints {
        let Some(t) = k.relation.and_then(|r| tables.get(&r)) else {
            continue;
        };
        let kind = match k.kind.as_str() {
            "p" => ObjectKind::PrimaryKey,
            "u" => ObjectKind::UniqueKey,
            "f" => ObjectKind::ForeignKey,
            "x" => ObjectKind::Exclusion,
            _ => ObjectKind::Check,
        };
        s.add_on(kind, format!("{}.{}", t.name, k.name), &t.name)
            .set("definition", &k.definition);
    }
    for row in &catalog.indexes {
        s.add_on(ObjectKind::Index, &row.name, &row.relation_name)
            .set("definition", &row.definition);
    }
    for row in &catalog.views {
        let kind = if row.kind == "m" {
            ObjectKind::MaterializedView
        } else {
            ObjectKind::View
        };
        s.add(kind, &row.name)
            .set("definition", normalise_sql(&row.query, SqlText::default()))
            .set_some("options", row.options.as_deref());
    }
    let on_relation = [
        (
            ObjectKind::Trigger,
            catalog.triggers.iter().map(|r| &r.0).collect::<Vec<_>>(),
        ),
        (
            ObjectKind::Rule,
            catalog.rules.iter().map(|r| &r.0).collect(),
        ),
        (
            ObjectKind::Statistics,
            catalog.statistics.iter().map(|r| &r.0).collect(),
        ),
        (
            ObjectKind::Policy,
            catalog.policies.iter().map(|r| &r.0).collect(),
        ),
    ];
    for (kind, rows) in on_relation {
        for row in rows {
            let enabled = match row.enabled.as_str() {
                "D" => Some("disabled"),
                "R" => Some("replica only"),
                "A" => Some("always"),
                _ => None,
            };
            s.add_on(
                kind,
                format!("{}.{}", row.relation_name, row.name),
                &row.relation_name,
            )
            .set("definition", &row.definition)
            .set_some("enabled", enabled);
        }
    }
}

/// A default as the server keeps it, with the spellings of one value made one:
/// `CURRENT_TIMESTAMP` is `now()`, and a string literal cast to a text type is the literal.
fn default_value(expr: &str) -> String {
    if expr == "CURRENT_TIMESTAMP" {
        return "now()".into();
    }
    for cast in ["::text", "::character varying", "::bpchar"] {
        if let Some(literal) = expr.strip_suffix(cast)
            && is_string_literal(literal)
        {
            return literal.to_owned();
        }
    }
    expr.to_owned()
}

/// `'it''s'`: one string literal, nothing around it.
fn is_string_literal(text: &str) -> bool {
    text.len() >= 2
        && text.starts_with('\'')
        && text.ends_with('\'')
        && !text[1..text.len() - 1].replace("''", "").contains('\'')
}

#[cfg(test)]
mod tests {
    use super::default_value;

    #[test]
    fn one_value_one_spelling() {
        assert_eq!(default_value("CURRENT_TIMESTAMP"), "now()");
        assert_eq!(default_value("'x'::character varying"), "'x'");
        assert_eq!(default_value("'x'::text"), "'x'");
        assert_eq!(default_value("'{}'::integer[]"), "'{}'::integer[]");
        assert_eq!(
            default_value("'a'::text || 'b'::text"),
            "'a'::text || 'b'::text"
        );
        assert_eq!(default_value("'it''s'::text"), "'it''s'");
        assert_eq!(
            default_value("nextval('s'::regclass)"),
            "nextval('s'::regclass)"
        );
    }
}
