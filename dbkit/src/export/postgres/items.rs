//! The objects of a PostgreSQL dump, one [`Item`] each, built from the catalog rows: the
//! statements that create it (its comments included), the one that drops it, the catalog
//! identities `pg_depend` knows it by, and the relation it belongs to. One builder per
//! kind, as pg_dump writes them: extensions `IF NOT EXISTS`, tables with their columns,
//! inline checks, identity and partitioning, partitions created alone then attached,
//! materialized views `WITH NO DATA` and refreshed after the rows, keys and indexes of
//! partitions attached to their parent's.

use super::catalog::{
    AggregateRow, Cat, ColumnRow, ConstraintRow, ExtensionRow, FunctionRow, IndexRow, Key,
    PolicyRow, RelationObjectRow, RuleRow, SchemaRow, SequenceRow, StatisticsRow, TableRow,
    TriggerRow, TypeRow, ViewRow,
};

/// What an object is, in pg_dump's order of priority: the tie-breaker of the dependency
/// sort. Those up to [`Kind::SequenceOwner`] come before the rows, the others after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Schema,
    Extension,
    Type,
    Function,
    Aggregate,
    /// Sequences, tables, views and materialized views (pg_dump sorts them together).
    Relation,
    /// `ALTER TABLE … ATTACH PARTITION`.
    Attach,
    /// A column default that calls a function of the user's, set after its table.
    Default,
    SequenceOwner,
    Constraint,
    Index,
    Statistics,
    Rule,
    Trigger,
    ForeignKey,
    Policy,
    /// `REFRESH MATERIALIZED VIEW`, once the rows are in.
    Refresh,
}

impl Kind {
    /// Whether the object is created before the rows.
    pub(super) fn before_rows(self) -> bool {
        self <= Kind::SequenceOwner
    }
}

/// How an item is named in warnings about what a filtered dump leaves out.
#[derive(Debug, Clone)]
pub(super) enum Subject {
    /// A table (its filter name).
    Table(String),
    /// A view or materialized view (its filter name).
    View(String),
    /// A foreign key: its name and its table's filter name.
    ForeignKey(String, String),
    /// Anything else: `function f(integer)`.
    Other(String),
}

impl Subject {
    /// The name to use when this item is what another one needs.
    pub(super) fn name(&self) -> &str {
        match self {
            Subject::Table(n) | Subject::View(n) | Subject::Other(n) => n,
            Subject::ForeignKey(n, _) => n,
        }
    }
}

/// One object of the dump.
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub kind: Kind,
    /// The sort name (qualified), the tie-breaker after the kind.
    pub name: String,
    pub subject: Subject,
    /// The statements that create it, comments last.
    pub sql: Vec<String>,
    /// `DROP … IF EXISTS … CASCADE`, where the object is dropped before it is created.
    pub drop: Option<String>,
    /// The catalog identities it stands for.
    pub keys: Vec<Key>,
    /// Objects it comes after beyond what `pg_depend` says.
    pub after: Vec<Key>,
    /// The relation it belongs to: left out silently with it.
    pub owner: Option<Key>,
}

impl Item {
    pub(super) fn new(kind: Kind, name: &str, subject: Subject, sql: Vec<String>) -> Item {
        Item {
            kind,
            name: name.to_owned(),
            subject,
            sql,
            drop: None,
            keys: Vec::new(),
            after: Vec::new(),
            owner: None,
        }
    }

    pub(super) fn keys(mut self, keys: impl IntoIterator<Item = Key>) -> Item {
        self.keys.extend(keys);
        self
    }

    fn drop(mut self, drop: String) -> Item {
        self.drop = Some(drop);
        self
    }

    pub(super) fn owned_by(mut self, relation: u32) -> Item {
        self.owner = Some((Cat::Class, relation));
        self.after.push((Cat::Class, relation));
        self
    }
}

/// `CREATE SCHEMA IF NOT EXISTS`: never dropped (a schema can hold what the dump does not).
pub(super) fn schema(row: &SchemaRow) -> Item {
    Item::new(
        Kind::Schema,
        &row.name,
        Subject::Other(format!("schema {}", row.name)),
        vec![format!("CREATE SCHEMA IF NOT EXISTS {}", row.name)],
    )
    .keys([(Cat::Namespace, row.oid)])
}

/// `CREATE EXTENSION IF NOT EXISTS … WITH SCHEMA …`: never dropped (other tables may use
/// its types).
pub(super) fn extension(row: &ExtensionRow) -> Item {
    Item::new(
        Kind::Extension,
        &row.name,
        Subject::Other(format!("extension {}", row.name)),
        vec![format!(
            "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}",
            row.name, row.schema
        )],
    )
    .keys([(Cat::Extension, row.oid)])
}

/// An enum, composite, domain or range type; in a filtered dump, created only where
/// missing (tables left out may use it) and never dropped.
pub(super) fn user_type(row: &TypeRow, constraints: &[&ConstraintRow], shared: bool) -> Item {
    let name = &row.name;
    let (mut sql, what) = match row.kind.as_str() {
        "e" => (
            vec![format!(
                "CREATE TYPE {name} AS ENUM ({})",
                row.labels.as_deref().unwrap_or_default()
            )],
            "TYPE",
        ),
        "c" => (
            vec![match &row.attributes {
                Some(attributes) => format!("CREATE TYPE {name} AS (\n    {attributes}\n)"),
                None => format!("CREATE TYPE {name} AS ()"),
            }],
            "TYPE",
        ),
        "r" => (vec![range_type(row)], "TYPE"),
        _ => (domain(row, constraints), "DOMAIN"),
    };
    if shared {
        // Shared with tables left out, which the target may hold: create it if missing.
        sql = vec![format!(
            "DO $dbrev$ BEGIN {}; EXCEPTION WHEN duplicate_object THEN NULL; END $dbrev$",
            sql.join("; ")
        )];
    }
    let mut item = Item::new(
        Kind::Type,
        name,
        Subject::Other(format!("type {name}")),
        sql,
    )
    .keys(
        std::iter::once((Cat::Type, row.oid))
            .chain(row.alias_types.iter().map(|&t| (Cat::Type, t)))
            .chain(row.alias_class.map(|c| (Cat::Class, c)))
            .chain(constraints.iter().map(|k| (Cat::Constraint, k.oid))),
    );
    if !shared {
        item = item.drop(format!("DROP {what} IF EXISTS {name} CASCADE"));
    }
    item
}

/// `CREATE TYPE … AS RANGE` with the options the catalog has.
fn range_type(row: &TypeRow) -> String {
    let mut options = vec![format!(
        "subtype = {}",
        row.subtype.as_deref().unwrap_or_default()
    )];
    let mut option = |key: &str, value: &Option<String>| {
        if let Some(v) = value {
            options.push(format!("{key} = {v}"));
        }
    };
    option("subtype_opclass", &row.opclass);
    option("collation", &row.range_collation);
    option("canonical", &row.canonical);
    option("subtype_diff", &row.subdiff);
    option("multirange_type_name", &row.multirange);
    format!(
        "CREATE TYPE {} AS RANGE (\n    {}\n)",
        row.name,
        options.join(",\n    ")
    )
}

/// `CREATE DOMAIN` with its validated checks, then those added `NOT VALID`.
fn domain(row: &TypeRow, constraints: &[&ConstraintRow]) -> Vec<String> {
    let name = &row.name;
    let mut ddl = format!(
        "CREATE DOMAIN {name} AS {}",
        row.base.as_deref().unwrap_or_default()
    );
    if let Some(collation) = &row.collation {
        ddl.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(default) = &row.default_value {
        ddl.push_str(&format!(" DEFAULT {default}"));
    }
    if row.not_null {
        ddl.push_str(" NOT NULL");
    }
    for k in constraints.iter().filter(|k| k.validated) {
        ddl.push_str(&format!(" CONSTRAINT {} {}", k.name, k.definition));
    }
    let mut sql = vec![ddl];
    sql.extend(constraints.iter().filter(|k| !k.validated).map(|k| {
        format!(
            "ALTER DOMAIN {name} ADD CONSTRAINT {} {}",
            k.name, k.definition
        )
    }));
    sql
}

/// A function or procedure, as `pg_get_functiondef` writes it (`CREATE OR REPLACE`).
pub(super) fn function(row: &FunctionRow, shared: bool) -> Item {
    let what = if row.kind == "p" {
        "PROCEDURE"
    } else {
        "FUNCTION"
    };
    let item = Item::new(
        Kind::Function,
        &row.name,
        Subject::Other(format!("{} {}", what.to_ascii_lowercase(), row.name)),
        vec![row.ddl.trim_end().to_owned()],
    )
    .keys([(Cat::Proc, row.oid)]);
    if shared {
        item
    } else {
        item.drop(format!("DROP {what} IF EXISTS {} CASCADE", row.name))
    }
}

/// `CREATE AGGREGATE` from pg_aggregate.
pub(super) fn aggregate(row: &AggregateRow, shared: bool) -> Item {
    let create = if shared {
        "CREATE OR REPLACE AGGREGATE"
    } else {
        "CREATE AGGREGATE"
    };
    let signature = format!("{}({})", row.name, row.identity);
    let item = Item::new(
        Kind::Aggregate,
        &signature,
        Subject::Other(format!("aggregate {signature}")),
        vec![format!(
            "{create} {}({}) (\n    {}\n)",
            row.name, row.arguments, row.options
        )],
    )
    .keys([(Cat::Proc, row.oid)]);
    if shared {
        item
    } else {
        item.drop(format!("DROP AGGREGATE IF EXISTS {signature} CASCADE"))
    }
}

/// A sequence of its own (identity sequences come with their column).
pub(super) fn sequence(row: &SequenceRow) -> Item {
    Item::new(
        Kind::Relation,
        &row.name,
        Subject::Other(format!("sequence {}", row.name)),
        vec![format!(
            "CREATE SEQUENCE {} AS {} {}",
            row.name, row.type_name, row.options
        )],
    )
    .keys([(Cat::Class, row.oid)])
    .drop(format!("DROP SEQUENCE IF EXISTS {} CASCADE", row.name))
}

/// `ALTER SEQUENCE … OWNED BY table.column`, once both exist.
pub(super) fn sequence_owner(row: &SequenceRow, owner: u32, column: &str) -> Item {
    let mut item = Item::new(
        Kind::SequenceOwner,
        &row.name,
        Subject::Other(format!("sequence {}", row.name)),
        vec![format!("ALTER SEQUENCE {} OWNED BY {column}", row.name)],
    )
    .owned_by(owner);
    item.after.push((Cat::Class, row.oid));
    item
}

/// How a table's columns and checks are written.
pub(super) struct TableParts<'a> {
    pub columns: Vec<&'a ColumnRow>,
    /// Checks written inside CREATE TABLE.
    pub checks: Vec<&'a ConstraintRow>,
    /// Identity sequences by column number.
    pub identities: Vec<(u32, &'a SequenceRow)>,
}

/// `CREATE TABLE` with columns, inline checks, `INHERITS`, `PARTITION BY` and options; a
/// partition is created alone with all its columns and checks (as pg_dump does, so column
/// order and local defaults survive) and attached by [`attach`]. Column defaults that call
/// a function of the user's are set apart (see [`column_default`]), so a function that
/// reads the table can come between.
pub(super) fn table(row: &TableRow, parts: &TableParts<'_>) -> Item {
    let inherited = row.inherits.is_some() && !row.is_partition;
    let mut lines: Vec<String> = parts
        .columns
        .iter()
        .filter(|c| !inherited || c.local)
        .map(|c| column_line(c, parts))
        .collect();
    lines.extend(
        parts
            .checks
            .iter()
            .map(|k| format!("CONSTRAINT {} {}", k.name, k.definition)),
    );
    let unlogged = if row.persistence == "u" {
        "UNLOGGED "
    } else {
        ""
    };
    let mut ddl = format!(
        "CREATE {unlogged}TABLE {} (\n    {}\n)",
        row.name,
        lines.join(",\n    ")
    );
    if lines.is_empty() {
        ddl = format!("CREATE {unlogged}TABLE {} ()", row.name);
    }
    if let (Some(parents), true) = (&row.inherits, inherited) {
        ddl.push_str(&format!("\nINHERITS ({parents})"));
    }
    if let Some(key) = &row.partition_key {
        ddl.push_str(&format!("\nPARTITION BY {key}"));
    }
    if let Some(options) = &row.options {
        ddl.push_str(&format!("\nWITH ({options})"));
    }
    let keys = std::iter::once((Cat::Class, row.oid))
        .chain(row.alias_types.iter().map(|&t| (Cat::Type, t)))
        .chain(parts.identities.iter().map(|(_, s)| (Cat::Class, s.oid)))
        .chain(parts.checks.iter().map(|k| (Cat::Constraint, k.oid)))
        .chain(
            parts
                .columns
                .iter()
                .filter(|c| !c.calls_function || c.generated == "s")
                .filter_map(|c| c.default_oid.map(|d| (Cat::AttrDef, d))),
        );
    let mut item = Item::new(
        Kind::Relation,
        &row.name,
        Subject::Table(row.filter_name.clone()),
        vec![ddl],
    )
    .keys(keys)
    .drop(format!("DROP TABLE IF EXISTS {} CASCADE", row.name));
    if let Some(root) = row.root {
        // A partition goes with its partitioned table.
        item.owner = Some((Cat::Class, root));
    }
    item
}

/// One column of `CREATE TABLE`: type, collation, identity (with its sequence's options),
/// generated expression or default (unless it calls a function of the user's), NOT NULL.
fn column_line(c: &ColumnRow, parts: &TableParts<'_>) -> String {
    let mut line = format!("{} {}", c.name, c.type_name);
    if let Some(collation) = &c.collation {
        line.push_str(&format!(" COLLATE {collation}"));
    }
    match (c.identity.as_str(), c.generated.as_str()) {
        ("a" | "d", _) => {
            let when = if c.identity == "a" {
                "ALWAYS"
            } else {
                "BY DEFAULT"
            };
            line.push_str(&format!(" GENERATED {when} AS IDENTITY"));
            if let Some((_, s)) = parts.identities.iter().find(|(n, _)| *n == c.number) {
                line.push_str(&format!(" (SEQUENCE NAME {} {})", s.name, s.options));
            }
        }
        (_, "s") => line.push_str(&format!(
            " GENERATED ALWAYS AS ({}) STORED",
            c.default_value.as_deref().unwrap_or_default()
        )),
        _ => {
            if let (Some(default), false) = (&c.default_value, c.calls_function) {
                line.push_str(&format!(" DEFAULT {default}"));
            }
        }
    }
    if c.not_null {
        line.push_str(" NOT NULL");
    }
    line
}

/// `ALTER TABLE ONLY parent ATTACH PARTITION partition FOR VALUES …`.
pub(super) fn attach(row: &TableRow) -> Option<Item> {
    let (Some(parent_name), Some(parent), Some(bound)) = (&row.parent, row.parent_oid, &row.bound)
    else {
        return None;
    };
    let mut item = Item::new(
        Kind::Attach,
        &row.name,
        Subject::Other(format!("partition {}", row.name)),
        vec![format!(
            "ALTER TABLE ONLY {parent_name} ATTACH PARTITION {} {bound}",
            row.name
        )],
    )
    .owned_by(row.oid);
    item.after.push((Cat::Class, parent));
    Some(item)
}

/// `ALTER TABLE ONLY t ALTER COLUMN c SET DEFAULT …`, for defaults that call a function of
/// the user's.
pub(super) fn column_default(table: &TableRow, column: &ColumnRow) -> Option<Item> {
    let (Some(oid), Some(value)) = (column.default_oid, &column.default_value) else {
        return None;
    };
    Some(
        Item::new(
            Kind::Default,
            &format!("{}.{}", table.name, column.name),
            Subject::Other(format!("default of {}.{}", table.name, column.name)),
            vec![format!(
                "ALTER TABLE ONLY {} ALTER COLUMN {} SET DEFAULT {value}",
                table.name, column.name
            )],
        )
        .keys([(Cat::AttrDef, oid)])
        .owned_by(table.oid),
    )
}

/// A constraint after the rows: a key or exclusion (a partition's attached to its
/// parent's index), a check not written inside CREATE TABLE, or a foreign key.
pub(super) fn constraint(row: &ConstraintRow, table: &TableRow) -> Item {
    let partitioned = table.kind == "p";
    let (kind, only) = match row.kind.as_str() {
        "f" => (Kind::ForeignKey, !partitioned),
        // A check after the rows reaches the tables that inherit it, as in the source.
        "c" => (Kind::Constraint, false),
        _ => (Kind::Constraint, true),
    };
    let only = if only { "ONLY " } else { "" };
    let mut sql = vec![format!(
        "ALTER TABLE {only}{} ADD CONSTRAINT {} {}",
        table.name, row.name, row.definition
    )];
    if let (Some(parent), Some(index)) = (&row.parent_index, &row.index_name) {
        sql.push(format!("ALTER INDEX {parent} ATTACH PARTITION {index}"));
    }
    if let (true, Some(index)) = (row.clustered, &row.index_bare_name) {
        sql.push(format!("ALTER TABLE {} CLUSTER ON {index}", table.name));
    }
    let subject = if kind == Kind::ForeignKey {
        Subject::ForeignKey(row.name.clone(), table.filter_name.clone())
    } else {
        Subject::Other(format!("constraint {} of {}", row.name, table.name))
    };
    Item::new(kind, &format!("{}.{}", table.name, row.name), subject, sql)
        .keys(std::iter::once((Cat::Constraint, row.oid)).chain(row.index.map(|i| (Cat::Class, i))))
        .owned_by(table.oid)
}

/// An index no constraint owns (a partition's attached to its parent's).
pub(super) fn index(row: &IndexRow) -> Item {
    let mut sql = vec![row.definition.clone()];
    if let Some(parent) = &row.parent_index {
        sql.push(format!(
            "ALTER INDEX {parent} ATTACH PARTITION {}",
            row.name
        ));
    }
    if row.clustered {
        sql.push(format!(
            "ALTER TABLE {} CLUSTER ON {}",
            row.relation_name, row.bare_name
        ));
    }
    Item::new(
        Kind::Index,
        &row.name,
        Subject::Other(format!("index {}", row.name)),
        sql,
    )
    .keys([(Cat::Class, row.oid)])
    .owned_by(row.relation)
}

/// A view, or a materialized view created `WITH NO DATA` (see [`refresh`]).
pub(super) fn view(row: &ViewRow) -> Item {
    let materialized = row.kind == "m";
    let what = if materialized {
        "MATERIALIZED VIEW"
    } else {
        "VIEW"
    };
    let options = row
        .options
        .as_ref()
        .map(|o| format!(" WITH ({o})"))
        .unwrap_or_default();
    let no_data = if materialized { "\nWITH NO DATA" } else { "" };
    Item::new(
        Kind::Relation,
        &row.name,
        Subject::View(row.filter_name.clone()),
        vec![format!(
            "CREATE {what} {}{options} AS\n{}{no_data}",
            row.name, row.query
        )],
    )
    .keys(
        std::iter::once((Cat::Class, row.oid))
            .chain(row.alias_types.iter().map(|&t| (Cat::Type, t)))
            .chain(row.alias_rules.iter().map(|&r| (Cat::Rewrite, r))),
    )
    .drop(format!("DROP {what} IF EXISTS {} CASCADE", row.name))
}

/// `REFRESH MATERIALIZED VIEW`, where the source's holds rows (as pg_dump does).
pub(super) fn refresh(row: &ViewRow) -> Item {
    Item::new(
        Kind::Refresh,
        &row.name,
        Subject::Other(format!("materialized view {}", row.name)),
        vec![format!("REFRESH MATERIALIZED VIEW {}", row.name)],
    )
    .owned_by(row.oid)
}

fn on_relation(kind: Kind, what: &str, row: &RelationObjectRow, cat: Cat) -> Item {
    Item::new(
        kind,
        &format!("{}.{}", row.relation_name, row.name),
        Subject::Other(format!("{what} {} of {}", row.name, row.relation_name)),
        vec![row.definition.clone()],
    )
    .keys([(cat, row.oid)])
    .owned_by(row.relation)
}

/// A trigger, disabled (or enabled for replicas only) as in the source.
pub(super) fn trigger(row: &TriggerRow) -> Item {
    let row = &row.0;
    let mut item = on_relation(Kind::Trigger, "trigger", row, Cat::Trigger);
    let state = match row.enabled.as_str() {
        "D" => Some("DISABLE"),
        "R" => Some("ENABLE REPLICA"),
        "A" => Some("ENABLE ALWAYS"),
        _ => None,
    };
    if let Some(state) = state {
        item.sql.push(format!(
            "ALTER TABLE {} {state} TRIGGER {}",
            row.relation_name, row.name
        ));
    }
    item
}

/// A rewrite rule.
pub(super) fn rule(row: &RuleRow) -> Item {
    on_relation(Kind::Rule, "rule", &row.0, Cat::Rewrite)
}

/// `CREATE STATISTICS`.
pub(super) fn statistics(row: &StatisticsRow) -> Item {
    on_relation(Kind::Statistics, "statistics", &row.0, Cat::Statistics)
}

/// A row-level security policy.
pub(super) fn policy(row: &PolicyRow) -> Item {
    on_relation(Kind::Policy, "policy", &row.0, Cat::Policy)
}

/// `ALTER TABLE … ENABLE [and FORCE] ROW LEVEL SECURITY`.
pub(super) fn row_security(row: &TableRow) -> Option<Item> {
    if !row.row_security && !row.force_row_security {
        return None;
    }
    let mut sql = Vec::new();
    if row.row_security {
        sql.push(format!(
            "ALTER TABLE {} ENABLE ROW LEVEL SECURITY",
            row.name
        ));
    }
    if row.force_row_security {
        sql.push(format!("ALTER TABLE {} FORCE ROW LEVEL SECURITY", row.name));
    }
    Some(
        Item::new(
            Kind::Policy,
            &row.name,
            Subject::Other(format!("row level security of {}", row.name)),
            sql,
        )
        .owned_by(row.oid),
    )
}
