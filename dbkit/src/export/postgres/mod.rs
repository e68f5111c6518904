//! PostgreSQL's dump of one database, carrying what `pg_dump --no-owner --no-privileges`
//! carries: schemas, extensions, enum/composite/domain/range types, functions, procedures
//! and aggregates, sequences (owned by their columns, with their values), tables with
//! identity and generated columns, partitioned tables and their partitions, inheritance,
//! views, materialized views (refreshed after the rows), constraints, indexes, extended
//! statistics, rules, triggers, row-level security and every object's comments. Objects
//! that belong to an extension are the extension's to create.
//!
//! Everything is read on one session in one REPEATABLE READ snapshot, every table locked
//! against DDL (ACCESS SHARE, as pg_dump does), with a fixed number of catalog queries
//! ([`catalog`]); each object becomes an [`items::Item`], and the items are put in
//! dependency order from `pg_depend` — a topological sort with pg_dump's kind order as the
//! tie-breaker (`export::order`), so a function returning a table's row type comes
//! after the table and a view using an aggregate after the aggregate. What the rows need
//! comes before them, the rest after; an object before the rows that needs one after them
//! (a view grouping by a primary key) brings it forward. Rows travel as `COPY` blocks, from
//! each table and partition.
//!
//! A filtered dump keeps only what belongs to the tables it dumps; an object that needs a
//! table left out (a foreign key, a view, a function whose body reads it) is left out with
//! a warning. Shared objects (schemas, types, functions) are never dropped, and types are
//! created only where missing. A data-only dump loads parents first with deferrable keys
//! deferred, in one transaction.

mod catalog;
mod items;
mod ranges;
pub(super) mod scratch;
mod snapshot;

use std::collections::{HashMap, HashSet};
use std::io::Write;

use super::order::dependency_order;
use super::restore::Target;
use super::session::{Failure, RawPostgres};
use super::{
    CountingWriter, DataTable, Ddl, DumpOptions, Objects, RowReader, RowSource,
    dropped_foreign_key, dropped_view, key_cycle, query_error, selected,
};
use crate::db::Connection;
use crate::error::Result;
use crate::url::DatabaseUrl;

pub(crate) use ranges::{PageRanges, PostgresRows};
pub(super) use snapshot::{SnapshotSession, fingerprint, snapshot};

use catalog::{Cat, Catalog, ColumnRow, ConstraintRow, Key, SequenceRow, TableRow};
use items::{Item, Kind, Subject, TableParts};

/// How many tables the database holds, in every schema (extensions' own left out).
pub(super) const TABLE_COUNT: &str = "SELECT count(*)::text AS value FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_%' AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')";

/// The name of the connected database, in a column named `value`.
pub(super) const DATABASE_NAME: &str = "SELECT current_database()::text AS value";

/// The session settings the dump reads in and the dump file loads in.
const SESSION: &str = "SET TIME ZONE 'UTC'; SET datestyle = 'ISO, YMD'; SET intervalstyle = 'postgres'; SET extra_float_digits = 3";

/// Reads what to dump, inside one REPEATABLE READ snapshot, on the session that then reads
/// the rows.
pub(super) fn objects(conn: &mut Connection, options: &DumpOptions) -> Result<Objects> {
    let mut session = RawPostgres::connect(conn.url())?;
    session
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; {SESSION}"
        ))
        .map_err(|e| query_error("snapshot", e))?;
    let catalog = Catalog::read(&mut session)?;
    let mut o = Objects {
        settings: [
            "SET statement_timeout = 0",
            "SET lock_timeout = 0",
            "SET client_encoding = 'UTF8'",
            "SET standard_conforming_strings = on",
            "SET check_function_bodies = false",
            "SET client_min_messages = warning",
            "SET TIME ZONE 'UTC'",
            "SET datestyle = 'ISO, YMD'",
            "SET intervalstyle = 'postgres'",
        ]
        .map(String::from)
        .to_vec(),
        ..Objects::default()
    };
    if options.data_only {
        // One transaction, so deferrable keys are checked once, at COMMIT.
        o.settings.push("BEGIN".into());
        o.settings.push("SET CONSTRAINTS ALL DEFERRED".into());
        o.footer.push("COMMIT".into());
    }
    o.warnings.extend(catalog.not_carried.iter().map(|n| {
        format!(
            "{} is not carried by this dump (pg_dump's would carry it): recreate it by hand",
            n.what
        )
    }));
    let dump = Dump::new(&catalog, options);
    let mut graph = dump.items();
    graph.leave_out(&mut o.warnings);
    let order = graph.order(&mut o.warnings);

    // Drops, dependants first; creation in dependency order, around the rows.
    for &i in order.iter().rev() {
        if let Some(drop) = &graph.items[i].drop {
            o.drops.push(Ddl::plain(drop.clone()));
        }
    }
    for &i in &order {
        let item = &graph.items[i];
        let statements = item.sql.iter().map(|s| Ddl::plain(s.clone()));
        if item.kind == Kind::Refresh {
            // Rows of their own: with the data in a data-only dump, none in a schema-only one.
            if options.data_only {
                o.data_after.extend(statements);
            } else if !options.schema_only {
                o.after.extend(statements);
            }
        } else if graph.before_rows[i] {
            o.before.extend(statements);
        } else {
            o.after.extend(statements);
        }
    }
    let dumped_sequences = catalog
        .sequences
        .iter()
        .filter(|s| dump.sequence_dumped(s) && graph.included(&(Cat::Class, s.oid)));
    let setvals: Vec<Ddl> = dumped_sequences
        .map(|s| Ddl::plain(s.setval.clone()))
        .collect();
    o.data_after.splice(0..0, setvals);
    o.tables = dump.data_tables(&graph, &mut o.warnings);
    o.reader = RowReader::Postgres(Box::new(PostgresRows::new(session, conn.url().clone())));
    Ok(o)
}

/// The catalog and the choices of one dump, with the catalog's rows by the object they
/// belong to.
struct Dump<'a> {
    catalog: &'a Catalog,
    options: &'a DumpOptions,
    /// The tables whose rows and definitions are dumped (partitions with their root).
    dumped: HashSet<u32>,
    tables: HashMap<u32, &'a TableRow>,
    columns: HashMap<u32, Vec<&'a ColumnRow>>,
    /// Constraints by table, and by domain.
    table_constraints: HashMap<u32, Vec<&'a ConstraintRow>>,
    domain_constraints: HashMap<u32, Vec<&'a ConstraintRow>>,
    /// Identity sequences by table, with their column's number.
    identities: HashMap<u32, Vec<(u32, &'a SequenceRow)>>,
}

/// Whether a table, view or sequence is dumped: within the current schema when the dump is
/// bounded by it, and passing the table filters.
fn in_scope(options: &DumpOptions, in_current_schema: bool, filter_name: &str) -> bool {
    (!options.current_schema_only || in_current_schema) && selected(options, filter_name)
}

impl<'a> Dump<'a> {
    fn new(catalog: &'a Catalog, options: &'a DumpOptions) -> Dump<'a> {
        let tables: HashMap<u32, &TableRow> = catalog.tables.iter().map(|t| (t.oid, t)).collect();
        let root_selected = |oid: u32| {
            tables
                .get(&oid)
                .is_some_and(|t| in_scope(options, t.in_current_schema, &t.filter_name))
        };
        let dumped = catalog
            .tables
            .iter()
            .filter(|t| match t.root {
                Some(root) if t.is_partition => root_selected(root),
                _ => in_scope(options, t.in_current_schema, &t.filter_name),
            })
            .map(|t| t.oid)
            .collect();
        let mut columns: HashMap<u32, Vec<&ColumnRow>> = HashMap::new();
        for c in &catalog.columns {
            columns.entry(c.relation).or_default().push(c);
        }
        let mut table_constraints: HashMap<u32, Vec<&ConstraintRow>> = HashMap::new();
        let mut domain_constraints: HashMap<u32, Vec<&ConstraintRow>> = HashMap::new();
        for k in &catalog.constraints {
            if let Some(relation) = k.relation {
                table_constraints.entry(relation).or_default().push(k);
            }
            if let Some(domain) = k.domain {
                domain_constraints.entry(domain).or_default().push(k);
            }
        }
        let mut identities: HashMap<u32, Vec<(u32, &SequenceRow)>> = HashMap::new();
        for s in &catalog.sequences {
            if let (Some(owner), Some(column), Some("i")) =
                (s.owner, s.owner_column, s.owner_kind.as_deref())
            {
                identities.entry(owner).or_default().push((column, s));
            }
        }
        Dump {
            catalog,
            options,
            dumped,
            tables,
            columns,
            table_constraints,
            domain_constraints,
            identities,
        }
    }

    fn is_dumped(&self, table: u32) -> bool {
        self.dumped.contains(&table)
    }

    fn table(&self, oid: u32) -> Option<&'a TableRow> {
        self.tables.get(&oid).copied()
    }

    /// A sequence goes with the table that owns it or whose defaults use it; one that no
    /// table uses is a relation of its own for the filters.
    fn sequence_dumped(&self, s: &SequenceRow) -> bool {
        match (s.owner, s.owner_kind.as_deref()) {
            (Some(owner), Some("i")) => self.is_dumped(owner),
            (Some(owner), _) => {
                self.is_dumped(owner) || s.used_by.iter().any(|&t| self.is_dumped(t))
            }
            (None, _) => {
                s.used_by.iter().any(|&t| self.is_dumped(t))
                    || (s.used_by.is_empty()
                        && in_scope(self.options, s.in_current_schema, &s.filter_name))
            }
        }
    }

    /// Every object of the catalog as an item, those the options leave out marked so.
    fn items(&self) -> Graph {
        let mut graph = Graph::default();
        self.schema_items(&mut graph);
        self.sequence_items(&mut graph);
        for row in &self.catalog.tables {
            self.table_items(&mut graph, row);
        }
        self.relation_object_items(&mut graph);
        graph.link(self.catalog);
        graph
    }

    /// Schemas, extensions, types, functions and aggregates: shared with tables a
    /// filtered dump leaves out.
    fn schema_items(&self, graph: &mut Graph) {
        let c = self.catalog;
        let shared = self.options.filtered();
        let scoped =
            |in_current_schema: bool| !self.options.current_schema_only || in_current_schema;
        for row in &c.schemas {
            graph.push(items::schema(row), scoped(row.in_current_schema));
        }
        for row in &c.extensions {
            graph.push(items::extension(row), true);
        }
        for row in &c.types {
            let constraints = self.domain_constraints.get(&row.oid);
            let constraints = constraints.map_or(&[][..], Vec::as_slice);
            graph.push(
                items::user_type(row, constraints, shared),
                scoped(row.in_current_schema),
            );
        }
        let routines = !self.options.no_routines;
        for row in &c.functions {
            graph.push(
                items::function(row, shared),
                routines && scoped(row.in_current_schema),
            );
        }
        for row in &c.aggregates {
            graph.push(
                items::aggregate(row, shared),
                routines && scoped(row.in_current_schema),
            );
        }
    }

    /// Sequences of their own (identity sequences come with their column) and their
    /// ownership by a column.
    fn sequence_items(&self, graph: &mut Graph) {
        for row in &self.catalog.sequences {
            if row.owner_kind.as_deref() == Some("i") {
                continue;
            }
            graph.push(items::sequence(row), self.sequence_dumped(row));
            if let (Some(owner), Some(column)) = (row.owner, &row.owned_by) {
                graph.push(
                    items::sequence_owner(row, owner, column),
                    self.sequence_dumped(row),
                );
            }
        }
    }

    /// A table, the defaults set apart from it, its attachment to its partitioned table
    /// and its row-level security.
    fn table_items(&self, graph: &mut Graph, row: &TableRow) {
        let dumped = self.is_dumped(row.oid);
        let columns = self.columns.get(&row.oid).cloned().unwrap_or_default();
        let checks = self
            .table_constraints
            .get(&row.oid)
            .into_iter()
            .flatten()
            .filter(|k| inline_check(k, row))
            .copied()
            .collect();
        let identities = self.identities.get(&row.oid).cloned().unwrap_or_default();
        for column in columns
            .iter()
            .filter(|k| k.calls_function && k.generated != "s")
        {
            if let Some(item) = items::column_default(row, column) {
                graph.push(item, dumped);
            }
        }
        let parts = TableParts {
            columns,
            checks,
            identities,
        };
        graph.push(items::table(row, &parts), dumped);
        if let Some(item) = items::attach(row) {
            graph.push(item, dumped);
        }
        if let Some(item) = items::row_security(row) {
            graph.push(item, dumped);
        }
    }

    /// Constraints, indexes, views (and their refreshes), triggers, rules, statistics
    /// and policies: each goes with the relation it belongs to.
    fn relation_object_items(&self, graph: &mut Graph) {
        let c = self.catalog;
        for k in &c.constraints {
            let Some(table) = k.relation.and_then(|r| self.table(r)) else {
                continue;
            };
            let skip = inline_check(k, table)
                // A partition's copy of its parent's foreign key comes with the parent's.
                || (k.kind == "f" && k.cloned)
                // An inherited check comes with the parent's (or inline, in a partition).
                || (k.kind == "c" && !k.local);
            if !skip {
                graph.push(items::constraint(k, table), true);
            }
        }
        for row in &c.indexes {
            graph.push(items::index(row), true);
        }
        for row in &c.views {
            graph.push(
                items::view(row),
                in_scope(self.options, row.in_current_schema, &row.filter_name),
            );
            if row.kind == "m" && row.populated {
                graph.push(items::refresh(row), true);
            }
        }
        if !self.options.no_triggers {
            for row in &c.triggers {
                graph.push(items::trigger(row), true);
            }
        }
        for row in &c.rules {
            graph.push(items::rule(row), true);
        }
        for row in &c.statistics {
            graph.push(items::statistics(row), true);
        }
        for row in &c.policies {
            graph.push(items::policy(row), true);
        }
    }

    /// The tables whose rows are copied, each after the tables its (not deferrable)
    /// foreign keys reference; partitions by their partitioned table.
    fn data_tables(&self, graph: &Graph, warnings: &mut Vec<String>) -> Vec<DataTable> {
        let leaves: Vec<&TableRow> = self
            .catalog
            .tables
            .iter()
            .filter(|t| t.kind == "r" && graph.included(&(Cat::Class, t.oid)))
            .collect();
        let root = |oid: u32| self.table(oid).and_then(|t| t.root).unwrap_or(oid);
        let mut roots: Vec<u32> = Vec::new();
        let mut positions: HashMap<u32, usize> = HashMap::new();
        for t in &leaves {
            positions.entry(root(t.oid)).or_insert_with(|| {
                roots.push(root(t.oid));
                roots.len() - 1
            });
        }
        let position = |oid: u32| positions.get(&root(oid)).copied();
        let edges: Vec<(usize, usize)> = self
            .catalog
            .constraints
            .iter()
            .filter(|k| k.kind == "f" && !k.deferrable && graph.included(&(Cat::Constraint, k.oid)))
            .filter_map(|k| Some((position(k.relation?)?, position(k.referenced?)?)))
            .collect();
        let (order, cyclic) = dependency_order(roots.len(), &edges);
        if self.options.data_only && !cyclic.is_empty() {
            let names: Vec<&str> = cyclic
                .iter()
                .filter_map(|&i| self.table(roots[i]).map(|t| t.filter_name.as_str()))
                .collect();
            warnings.push(key_cycle(&names));
        }
        let mut by_root: HashMap<u32, Vec<&TableRow>> = HashMap::new();
        for t in &leaves {
            by_root.entry(root(t.oid)).or_default().push(t);
        }
        order
            .into_iter()
            .flat_map(|i| by_root.remove(&roots[i]).unwrap_or_default())
            .map(|t| self.data_table(t))
            .collect()
    }

    fn data_table(&self, t: &TableRow) -> DataTable {
        let copied: Vec<&ColumnRow> = self
            .columns
            .get(&t.oid)
            .into_iter()
            .flatten()
            .filter(|c| c.generated != "s")
            .copied()
            .collect();
        let identity = copied.iter().any(|c| !c.identity.is_empty());
        let names: Vec<&str> = copied.iter().map(|c| c.name.as_str()).collect();
        let names = names.join(", ");
        DataTable {
            name: t.filter_name.clone(),
            insert: format!(
                "INSERT INTO {} ({names}){} VALUES",
                t.name,
                if identity {
                    " OVERRIDING SYSTEM VALUE"
                } else {
                    ""
                }
            ),
            rows: RowSource::Copy {
                out: format!("COPY {} ({names}) TO STDOUT", t.name),
                into: format!("COPY {} ({names}) FROM stdin", t.name),
                ranges: PageRanges {
                    select: format!("SELECT {names} FROM ONLY {}", t.name),
                    pages: t.pages,
                },
            },
        }
    }
}

/// Whether a check constraint is written inside its table's CREATE TABLE: a validated one
/// of the table's own that calls no function of the user's (which could read the table),
/// and in a partition also those it inherits (ATTACH PARTITION wants them there).
fn inline_check(k: &ConstraintRow, table: &TableRow) -> bool {
    k.kind == "c"
        && k.validated
        && (k.local || table.is_partition)
        && (!k.calls_function || table.is_partition || table.kind == "p")
}

/// The items, what each depends on, and which are in the dump.
#[derive(Default)]
struct Graph {
    items: Vec<Item>,
    /// Left in by the options (before what they depend on is known).
    selected: Vec<bool>,
    /// In the dump.
    kept: Vec<bool>,
    /// Per item, the items it depends on.
    depends: Vec<Vec<usize>>,
    /// Created before the rows.
    before_rows: Vec<bool>,
    by_key: HashMap<Key, usize>,
}

impl Graph {
    fn push(&mut self, item: Item, selected: bool) {
        let index = self.items.len();
        for key in &item.keys {
            self.by_key.entry(*key).or_insert(index);
        }
        self.before_rows.push(item.kind.before_rows());
        self.items.push(item);
        self.selected.push(selected);
        self.kept.push(selected);
        self.depends.push(Vec::new());
    }

    /// Whether the object with this key is in the dump.
    fn included(&self, key: &Key) -> bool {
        self.by_key.get(key).is_some_and(|&i| self.kept[i])
    }

    /// Dependencies from `pg_depend` between items, the items' own, comments onto their
    /// objects, and each refresh after the refreshes of what it reads.
    fn link(&mut self, catalog: &Catalog) {
        for comment in &catalog.comments {
            if let Some(&i) = self.by_key.get(&comment.on) {
                self.items[i].sql.push(comment.statement.clone());
            }
        }
        let mut edges: Vec<(usize, usize)> = Vec::new();
        for d in &catalog.depends {
            let (Some(&from), Some(&to)) =
                (self.by_key.get(&d.object), self.by_key.get(&d.referenced))
            else {
                continue;
            };
            // A sequence OWNED BY a column is created before its table; the ownership is
            // an item of its own.
            let owned_sequence = d.kind == "a"
                && self.items[from].kind == Kind::Relation
                && self.items[from]
                    .drop
                    .as_deref()
                    .is_some_and(|s| s.starts_with("DROP SEQUENCE"));
            if from != to && !owned_sequence {
                edges.push((from, to));
            }
        }
        for (i, item) in self.items.iter().enumerate() {
            for key in &item.after {
                if let Some(&to) = self.by_key.get(key) {
                    if to != i {
                        edges.push((i, to));
                    }
                }
            }
        }
        // REFRESH of a materialized view after the refreshes of those it reads.
        let refreshes: Vec<(usize, usize)> = self
            .items
            .iter()
            .enumerate()
            .filter(|(_, item)| item.kind == Kind::Refresh)
            .filter_map(|(i, item)| Some((i, *self.by_key.get(item.owner.as_ref()?)?)))
            .collect();
        let known: HashSet<(usize, usize)> = edges.iter().copied().collect();
        for &(refresh, view) in &refreshes {
            for &(other_refresh, other_view) in &refreshes {
                if known.contains(&(view, other_view)) {
                    edges.push((refresh, other_refresh));
                }
            }
        }
        edges.sort_unstable();
        edges.dedup();
        for (from, to) in edges {
            self.depends[from].push(to);
        }
    }

    /// Leaves out, with a warning, what needs an object left out: a foreign key to a table
    /// not dumped, a view reading one, a function whose body does. What belongs to a
    /// relation left out goes with it silently.
    fn leave_out(&mut self, warnings: &mut Vec<String>) {
        loop {
            let mut changed = false;
            for i in 0..self.items.len() {
                if !self.kept[i] {
                    continue;
                }
                // What belongs to a relation left out, or to one the dump does not hold
                // (an extension's table), goes with it.
                let owner = self.items[i].owner.map(|k| self.by_key.get(&k).copied());
                if owner.is_some_and(|o| o.is_none_or(|o| !self.kept[o])) {
                    self.kept[i] = false;
                    changed = true;
                    continue;
                }
                let missing = self.depends[i]
                    .iter()
                    .copied()
                    .filter(|&d| !self.kept[d])
                    .min_by_key(|&d| {
                        !matches!(self.items[d].subject, Subject::Table(_) | Subject::View(_))
                    });
                if let Some(dep) = missing {
                    self.kept[i] = false;
                    changed = true;
                    warnings.push(left_out(&self.items[i].subject, &self.items[dep].subject));
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The kept items in dependency order (kind, then name, as the tie-breaker); what an
    /// object before the rows needs comes before the rows too.
    fn order(&mut self, warnings: &mut Vec<String>) -> Vec<usize> {
        loop {
            let mut changed = false;
            for i in 0..self.items.len() {
                if !(self.kept[i] && self.before_rows[i]) {
                    continue;
                }
                for &d in &self.depends[i] {
                    if self.kept[d] && !self.before_rows[d] && self.items[d].kind != Kind::Refresh {
                        self.before_rows[d] = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut kept: Vec<usize> = (0..self.items.len()).filter(|&i| self.kept[i]).collect();
        kept.sort_by(|&a, &b| {
            let key = |i: usize| {
                let item = &self.items[i];
                (!self.before_rows[i], item.kind, item.name.as_str())
            };
            key(a).cmp(&key(b)).then(a.cmp(&b))
        });
        let position: HashMap<usize, usize> =
            kept.iter().enumerate().map(|(p, &i)| (i, p)).collect();
        let edges: Vec<(usize, usize)> = kept
            .iter()
            .enumerate()
            .flat_map(|(p, &i)| {
                self.depends[i]
                    .iter()
                    .filter_map(|d| position.get(d).map(|&q| (p, q)))
                    .collect::<Vec<_>>()
            })
            .collect();
        let (order, cyclic) = dependency_order(kept.len(), &edges);
        if !cyclic.is_empty() {
            let names: Vec<String> = cyclic
                .iter()
                .take(8)
                .map(|&p| describe(&self.items[kept[p]].subject))
                .collect();
            warnings.push(format!(
                "{} depend on each other in a cycle: they are written in kind order, which may not load",
                names.join(", ")
            ));
        }
        order.into_iter().map(|p| kept[p]).collect()
    }
}

/// `table t`, `view v`, `foreign key k`, or the item's own label.
fn describe(subject: &Subject) -> String {
    match subject {
        Subject::Table(n) => format!("table {n}"),
        Subject::View(n) => format!("view {n}"),
        Subject::ForeignKey(n, t) => format!("foreign key {n} of {t}"),
        Subject::Other(label) => label.clone(),
    }
}

/// The warning for an object left out because it needs another that is not in the dump.
fn left_out(item: &Subject, needed: &Subject) -> String {
    match item {
        Subject::ForeignKey(name, table) => dropped_foreign_key(name, table, needed.name()),
        Subject::View(view) => dropped_view(view, needed.name()),
        other => format!(
            "{} needs {}, which is not in the dump: it is left out",
            describe(other),
            describe(needed)
        ),
    }
}

/// One table's rows as a `COPY … FROM stdin` block (what pg_dump writes); a large table's
/// read in page ranges on sessions that share the dump's snapshot, where the server can.
pub(super) fn copy_rows(
    rows_from: &mut PostgresRows,
    w: &mut CountingWriter<'_>,
    table: &DataTable,
    (copy_out, copy_in, ranges): (&str, &str, &PageRanges),
    reporter: &crate::term::Reporter,
) -> Result<u64> {
    let bar = super::table_progress(reporter, &table.name);
    let io = |e| crate::error::Error::write("writing the dump", e);
    writeln!(w, "{copy_in};").map_err(io)?;
    let mut rows = 0u64;
    let mut write = |chunk: &[u8]| {
        let before = rows;
        rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        if before / 4096 != rows / 4096 {
            bar.set_position(rows);
            bar.set_message(format!("{} written", indicatif::HumanBytes(w.bytes)));
        }
        w.write_all(chunk)
    };
    let in_ranges =
        ranges.worth_it() && rows_from.copy_ranges(ranges, &table.name, reporter, &mut write)?;
    if !in_ranges {
        rows_from
            .session
            .copy_out(copy_out, write)
            .map_err(|e| e.dumping(&format!("rows of {}", table.name)))?;
    }
    writeln!(w, "\\.").map_err(io)?;
    bar.finish_and_clear();
    Ok(rows)
}

/// Hands each row of a `COPY … TO STDOUT` (one line of its text format) to `each`.
pub(super) fn each_row(
    session: &mut RawPostgres,
    copy_out: &str,
    what: &str,
    mut each: impl FnMut(&[u8]),
) -> Result<()> {
    let mut pending: Vec<u8> = Vec::new();
    session
        .copy_out(copy_out, |chunk| {
            let mut rest = chunk;
            while let Some(end) = rest.iter().position(|&b| b == b'\n') {
                if pending.is_empty() {
                    each(&rest[..end]);
                } else {
                    pending.extend_from_slice(&rest[..end]);
                    each(&pending);
                    pending.clear();
                }
                rest = &rest[end + 1..];
            }
            pending.extend_from_slice(rest);
            Ok(())
        })
        .map_err(|e| e.dumping(&format!("rows of {what}")))
}

/// Restore's side on PostgreSQL: a plain session that speaks `COPY`, in one transaction.
pub(super) struct RestoreTarget {
    session: RawPostgres,
}

impl RestoreTarget {
    pub(super) fn connect(url: &DatabaseUrl) -> Result<RestoreTarget> {
        Ok(RestoreTarget {
            session: RawPostgres::connect(url)?,
        })
    }
}

impl Target for RestoreTarget {
    fn transactional(&self) -> bool {
        true
    }

    fn execute(&mut self, sql: &str) -> std::result::Result<(), Failure> {
        self.session.batch_execute(sql)
    }

    fn copy_begin(&mut self, sql: &str) -> std::result::Result<(), Failure> {
        self.session.copy_begin(sql)
    }

    fn copy_send(&mut self, data: Vec<u8>) -> std::result::Result<(), Failure> {
        self.session.copy_send(data)
    }

    fn copy_finish(&mut self) -> std::result::Result<(), Failure> {
        self.session.copy_finish().map(|_| ())
    }

    fn copy_abort(&mut self) {
        if self.session.copying() {
            self.session.copy_abort();
        }
    }

    /// Deferred keys are checked here rather than at COMMIT, so a violation is reported
    /// like any failing statement.
    fn final_checks(
        &mut self,
        _reporter: &crate::term::Reporter,
    ) -> std::result::Result<(), Failure> {
        self.session.batch_execute("SET CONSTRAINTS ALL IMMEDIATE")
    }
}

#[cfg(test)]
mod tests {
    use super::catalog::DependRow;
    use super::*;

    fn item(kind: Kind, name: &str, key: Key) -> Item {
        Item::new(
            kind,
            name,
            Subject::Other(name.to_owned()),
            vec![name.to_owned()],
        )
        .keys([key])
    }

    fn depends(object: Key, referenced: Key) -> DependRow {
        DependRow {
            object,
            referenced,
            kind: "n".into(),
        }
    }

    fn names(graph: &Graph, order: &[usize]) -> Vec<String> {
        order.iter().map(|&i| graph.items[i].name.clone()).collect()
    }

    /// A function reading a table comes after it; a view grouping by a primary key
    /// brings the key before the rows; the rest keeps kind order.
    #[test]
    fn dependencies_order_and_bring_keys_before_the_rows() {
        let mut graph = Graph::default();
        graph.push(item(Kind::Function, "a_reads_t", (Cat::Proc, 1)), true);
        graph.push(item(Kind::Relation, "t", (Cat::Class, 2)), true);
        graph.push(item(Kind::Relation, "v", (Cat::Class, 3)), true);
        graph.push(
            item(Kind::Constraint, "t_pkey", (Cat::Constraint, 4)).owned_by(2),
            true,
        );
        graph.push(
            item(Kind::Index, "t_idx", (Cat::Class, 5)).owned_by(2),
            true,
        );
        graph.push(item(Kind::Schema, "s", (Cat::Namespace, 6)), true);
        let catalog = Catalog {
            depends: vec![
                depends((Cat::Proc, 1), (Cat::Class, 2)),
                depends((Cat::Class, 3), (Cat::Constraint, 4)),
                depends((Cat::Class, 3), (Cat::Proc, 1)),
            ],
            ..Catalog::default()
        };
        graph.link(&catalog);
        let mut warnings = Vec::new();
        let order = graph.order(&mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            names(&graph, &order),
            ["s", "t", "a_reads_t", "t_pkey", "v", "t_idx"]
        );
        let before: Vec<bool> = order.iter().map(|&i| graph.before_rows[i]).collect();
        assert_eq!(before, [true, true, true, true, true, false]);
    }

    /// What needs a table left out is left out with a warning; what belongs to it, silently.
    #[test]
    fn what_needs_a_table_left_out_goes_with_a_warning() {
        let mut graph = Graph::default();
        let table = |name: &str, oid| {
            Item::new(
                Kind::Relation,
                name,
                Subject::Table(name.to_owned()),
                vec![],
            )
            .keys([(Cat::Class, oid)])
        };
        graph.push(table("gone", 1), false);
        graph.push(table("kept", 2), true);
        graph.push(
            Item::new(
                Kind::ForeignKey,
                "kept_fk",
                Subject::ForeignKey("kept_fk".into(), "kept".into()),
                vec![],
            )
            .keys([(Cat::Constraint, 3)])
            .owned_by(2),
            true,
        );
        graph.push(
            item(Kind::Index, "gone_idx", (Cat::Class, 4)).owned_by(1),
            true,
        );
        graph.push(
            Item::new(Kind::Relation, "v", Subject::View("v".into()), vec![])
                .keys([(Cat::Class, 5)]),
            true,
        );
        graph.push(item(Kind::Function, "f()", (Cat::Proc, 6)), true);
        let catalog = Catalog {
            depends: vec![
                depends((Cat::Constraint, 3), (Cat::Class, 1)),
                depends((Cat::Class, 5), (Cat::Class, 1)),
                depends((Cat::Proc, 6), (Cat::Class, 5)),
            ],
            ..Catalog::default()
        };
        graph.link(&catalog);
        let mut warnings = Vec::new();
        graph.leave_out(&mut warnings);
        assert_eq!(graph.kept, [false, true, false, false, false, false]);
        assert_eq!(
            warnings,
            [
                dropped_foreign_key("kept_fk", "kept", "gone"),
                dropped_view("v", "gone"),
                "f() needs view v, which is not in the dump: it is left out".to_owned(),
            ]
        );
    }
}
