//! PostgreSQL's dump, assembled from the catalog the way pg_dump orders it: schemas, enum
//! and domain types, functions, sequences and tables before the rows; sequence values with
//! the rows; constraints (foreign keys last), indexes, views in dependency order,
//! materialized views and triggers after them. Rows travel as `COPY` blocks read in the
//! catalog's exported snapshot.
//!
//! A filtered dump keeps only what belongs to the tables it dumps (their sequences and
//! values, constraints, indexes, triggers), leaves out foreign keys and views that reach a
//! table left out (with a warning), never drops shared objects (schemas, types, functions)
//! and creates types only where missing. A data-only dump loads parents first with
//! deferrable keys deferred, in one transaction.

use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text};

use std::io::Write;

use super::order::dependency_order;
use super::restore::Target;
use super::session::{Failure, RawPostgres};
use super::{
    CountingWriter, DataTable, Ddl, DumpOptions, Objects, RowReader, RowSource,
    dropped_foreign_key, dropped_view, key_cycle, query_error, selected,
};
use crate::db::{Connection, ValueRow};
use crate::dialect::{Dialect, PostgresDialect};
use crate::error::Result;
use crate::url::DatabaseUrl;

const USER: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";
/// Objects that belong to an extension are the extension's to create.
const NOT_EXTENSION: &str =
    "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = {oid} AND e.deptype = 'e')";

/// How many tables the database holds, in every schema (extensions' own left out).
pub(super) const TABLE_COUNT: &str = "SELECT count(*)::text AS value FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_%' AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = c.oid AND e.deptype = 'e')";

#[derive(QueryableByName)]
struct NamedDdl {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ddl: String,
    #[diesel(sql_type = Nullable<Text>)]
    extra: Option<String>,
}

/// A table: its oid, `regclass` name, the name the filters see (bare in the current
/// schema, qualified elsewhere), its schema outside the current one, and its DDL.
#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    oid: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    filter_name: String,
    #[diesel(sql_type = Text)]
    bare: String,
    #[diesel(sql_type = Nullable<Text>)]
    schema: Option<String>,
    #[diesel(sql_type = Text)]
    ddl: String,
}

#[derive(QueryableByName)]
struct SequenceRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    filter_name: String,
    #[diesel(sql_type = Text)]
    ddl: String,
    /// The table that owns it (`OWNED BY` or an identity column).
    #[diesel(sql_type = Nullable<Text>)]
    owner: Option<String>,
    /// `a` (serial, `OWNED BY`) or `i` (identity).
    #[diesel(sql_type = Nullable<Text>)]
    owner_kind: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    owned_by: Option<String>,
    #[diesel(sql_type = Text)]
    setval: String,
    /// Tables whose column defaults use it, comma-separated oids.
    #[diesel(sql_type = Nullable<Text>)]
    used_by: Option<String>,
}

#[derive(QueryableByName)]
struct ConstraintRow {
    #[diesel(sql_type = Text)]
    table_oid: String,
    #[diesel(sql_type = Nullable<Text>)]
    ref_oid: Option<String>,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    deferrable: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ddl: String,
}

/// An index or trigger, by the table it belongs to.
#[derive(QueryableByName)]
struct TableDdl {
    #[diesel(sql_type = Text)]
    table_oid: String,
    #[diesel(sql_type = Text)]
    ddl: String,
}

#[derive(QueryableByName)]
struct ViewRow {
    #[diesel(sql_type = Text)]
    oid: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    filter_name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    ddl: String,
    /// The relations it reads, comma-separated oids.
    #[diesel(sql_type = Nullable<Text>)]
    deps: Option<String>,
}

fn named(conn: &mut Connection, what: &str, sql: &str) -> Result<Vec<NamedDdl>> {
    conn.load::<NamedDdl>(sql).map_err(|e| query_error(what, e))
}

fn load<T: crate::db::AnyRow>(conn: &mut Connection, what: &str, sql: &str) -> Result<Vec<T>> {
    conn.load::<T>(sql).map_err(|e| query_error(what, e))
}

fn values(conn: &mut Connection, what: &str, sql: &str) -> Result<Vec<String>> {
    Ok(load::<ValueRow>(conn, what, sql)?
        .into_iter()
        .filter_map(|r| r.value)
        .collect())
}

fn not_extension(oid: &str) -> String {
    NOT_EXTENSION.replace("{oid}", oid)
}

fn oids(list: &Option<String>) -> Vec<&str> {
    list.as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .collect()
}

/// The name the filters compare: bare in the current schema, `schema.name` elsewhere.
const FILTER_NAME: &str =
    "CASE WHEN n.nspname = current_schema() THEN c.relname::text ELSE c.oid::regclass::text END";

/// Reads what to dump, inside one REPEATABLE READ snapshot.
pub(super) fn objects(conn: &mut Connection, options: &DumpOptions) -> Result<Objects> {
    let d = PostgresDialect;
    conn.batch_execute(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TIME ZONE 'UTC'; SET datestyle = 'ISO, YMD'; SET intervalstyle = 'postgres'; SET extra_float_digits = 3",
    )
    .map_err(|e| query_error("snapshot", e))?;
    let snapshot = conn
        .query_value("SELECT pg_export_snapshot() AS value")
        .map_err(|e| query_error("snapshot", e))?;
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
    let schemas = values(
        conn,
        "schemas",
        &format!(
            "SELECT quote_ident(n.nspname) AS value FROM pg_namespace n WHERE {USER} AND n.nspname <> 'public' AND {} ORDER BY 1",
            not_extension("n.oid")
        ),
    )?;
    let types = named(
        conn,
        "types",
        &format!(
            "SELECT t.oid::regtype::text AS name, \
                    CASE t.typtype WHEN 'e' THEN format('CREATE TYPE %s AS ENUM (%s)', t.oid::regtype, \
                        (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)) \
                    ELSE format('CREATE DOMAIN %s AS %s%s%s%s', t.oid::regtype, format_type(t.typbasetype, t.typtypmod), \
                        CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END, coalesce(' DEFAULT ' || t.typdefault, ''), \
                        coalesce((SELECT string_agg(' CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid), '') FROM pg_constraint c WHERE c.contypid = t.oid), '')) END AS ddl, \
                    CASE t.typtype WHEN 'e' THEN 'TYPE' ELSE 'DOMAIN' END AS extra \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typtype IN ('e', 'd') AND {USER} AND {} ORDER BY t.typtype DESC, t.oid",
            not_extension("t.oid")
        ),
    )?;
    let routines = if options.no_routines {
        Vec::new()
    } else {
        named(
            conn,
            "functions",
            &format!(
                "SELECT p.oid::regprocedure::text AS name, pg_get_functiondef(p.oid) AS ddl, \
                        CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END AS extra \
                 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE p.prokind IN ('f', 'p') AND {USER} AND {} ORDER BY p.oid",
                not_extension("p.oid")
            ),
        )?
    };
    let sequences: Vec<SequenceRow> = load(
        conn,
        "sequences",
        &format!(
            "SELECT c.oid::regclass::text AS name, {FILTER_NAME} AS filter_name, \
                    format('CREATE SEQUENCE %s AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s', \
                        c.oid::regclass, format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache, \
                        CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) AS ddl, \
                    own.refobjid::text AS owner, own.deptype::text AS owner_kind, \
                    CASE WHEN own.deptype = 'a' THEN format('ALTER SEQUENCE %s OWNED BY %s.%I', c.oid::regclass, own.refobjid::regclass, a.attname) END AS owned_by, \
                    format('SELECT pg_catalog.setval(%L, %s, %s)', quote_ident(n.nspname) || '.' || quote_ident(c.relname), \
                        coalesce(pg_sequence_last_value(c.oid), s.seqstart), \
                        CASE WHEN pg_sequence_last_value(c.oid) IS NULL THEN 'false' ELSE 'true' END) AS setval, \
                    (SELECT string_agg(DISTINCT ad.adrelid::text, ',') FROM pg_depend u JOIN pg_attrdef ad ON ad.oid = u.objid \
                     WHERE u.classid = 'pg_attrdef'::regclass AND u.refclassid = 'pg_class'::regclass AND u.refobjid = c.oid) AS used_by \
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_depend own ON own.objid = c.oid AND own.classid = 'pg_class'::regclass \
                 AND own.refclassid = 'pg_class'::regclass AND own.deptype IN ('a', 'i') \
             LEFT JOIN pg_attribute a ON a.attrelid = own.refobjid AND a.attnum = own.refobjsubid \
             WHERE {USER} AND {} ORDER BY c.oid",
            not_extension("c.oid")
        ),
    )?;
    let tables: Vec<TableRow> = load(
        conn,
        "tables",
        &format!(
            "SELECT c.oid::text AS oid, c.oid::regclass::text AS name, {FILTER_NAME} AS filter_name, c.relname::text AS bare, \
                CASE WHEN n.nspname = current_schema() THEN NULL ELSE n.nspname::text END AS schema, \
                format('CREATE TABLE %s (\n    %s\n)', c.oid::regclass, \
                string_agg(format('%I %s%s%s', a.attname, format_type(a.atttypid, a.atttypmod), \
                    CASE WHEN a.attidentity = 'a' THEN ' GENERATED ALWAYS AS IDENTITY' \
                         WHEN a.attidentity = 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' \
                         WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED' \
                         WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END, \
                    CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END), ',\n    ' ORDER BY a.attnum)) AS ddl \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {USER} AND {} \
             GROUP BY c.oid, n.nspname, c.relname ORDER BY c.oid",
            not_extension("c.oid")
        ),
    )?;
    let user_table = |alias: &str| format!("{alias}.relkind IN ('r', 'p') AND {USER}");
    let constraints: Vec<ConstraintRow> = load(
        conn,
        "constraints",
        &format!(
            "SELECT k.conrelid::text AS table_oid, nullif(k.confrelid, 0)::text AS ref_oid, k.contype::text AS kind, \
                    k.condeferrable::text AS deferrable, k.conname::text AS name, \
                    format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid)) AS ddl \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE k.contype IN ('p', 'u', 'c', 'x', 'f') AND k.conislocal AND {} \
             ORDER BY k.contype = 'f', k.contype <> 'p', k.oid",
            user_table("c")
        ),
    )?;
    let indexes: Vec<TableDdl> = load(
        conn,
        "indexes",
        &format!(
            "SELECT i.indrelid::text AS table_oid, pg_get_indexdef(i.indexrelid) AS ddl FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY i.indexrelid",
            user_table("c")
        ),
    )?;
    let views: Vec<ViewRow> = load(
        conn,
        "views",
        &format!(
            "SELECT c.oid::text AS oid, c.oid::regclass::text AS name, {FILTER_NAME} AS filter_name, c.relkind::text AS kind, \
                    format('CREATE %sVIEW %s AS\n%s', CASE c.relkind WHEN 'm' THEN 'MATERIALIZED ' ELSE '' END, \
                    c.oid::regclass, pg_get_viewdef(c.oid)) AS ddl, \
                    (SELECT string_agg(DISTINCT dep.refobjid::text, ',') FROM pg_rewrite r JOIN pg_depend dep ON dep.objid = r.oid \
                     WHERE r.ev_class = c.oid AND dep.refobjid <> c.oid) AS deps \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('v', 'm') AND {USER} AND {} ORDER BY c.oid",
            not_extension("c.oid")
        ),
    )?;
    let triggers: Vec<TableDdl> = if options.no_triggers {
        Vec::new()
    } else {
        load(
            conn,
            "triggers",
            &format!(
                "SELECT t.tgrelid::text AS table_oid, pg_get_triggerdef(t.oid) AS ddl FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND {} ORDER BY t.oid",
                user_table("c")
            ),
        )?
    };

    // What is dumped: the selected tables, and what belongs to them.
    let dumped: Vec<&TableRow> = tables
        .iter()
        .filter(|t| selected(options, &t.filter_name))
        .collect();
    let is_dumped = |oid: &str| dumped.iter().any(|t| t.oid == oid);
    let name_of = |oid: &str| {
        tables
            .iter()
            .find(|t| t.oid == oid)
            .map_or_else(|| oid.to_owned(), |t| t.name.clone())
    };
    let sequence_dumped = |s: &SequenceRow| match (&s.owner, s.owner_kind.as_deref()) {
        (Some(owner), Some("i")) => is_dumped(owner),
        (Some(owner), _) => is_dumped(owner) || oids(&s.used_by).iter().any(|t| is_dumped(t)),
        (None, _) => {
            let used_by = oids(&s.used_by);
            used_by.iter().any(|t| is_dumped(t))
                || (used_by.is_empty() && selected(options, &s.filter_name))
        }
    };
    let own_sequences: Vec<&SequenceRow> =
        sequences.iter().filter(|s| sequence_dumped(s)).collect();
    let created_sequences: Vec<&&SequenceRow> = own_sequences
        .iter()
        .filter(|s| s.owner_kind.as_deref() != Some("i"))
        .collect();
    let mut kept_constraints = Vec::new();
    for k in constraints.iter().filter(|k| is_dumped(&k.table_oid)) {
        match &k.ref_oid {
            Some(referenced) if !is_dumped(referenced) => o.warnings.push(dropped_foreign_key(
                &k.name,
                &name_of(&k.table_oid),
                &name_of(referenced),
            )),
            _ => kept_constraints.push(k),
        }
    }
    // Views: only those the filters pass and whose every relation is dumped.
    let known: Vec<&str> = tables
        .iter()
        .map(|t| t.oid.as_str())
        .chain(views.iter().map(|v| v.oid.as_str()))
        .collect();
    let view_index = |oid: &str| views.iter().position(|v| v.oid == oid);
    let edges: Vec<(usize, usize)> = views
        .iter()
        .enumerate()
        .flat_map(|(i, v)| {
            oids(&v.deps)
                .into_iter()
                .filter_map(move |dep| Some((i, view_index(dep)?)))
        })
        .collect();
    let (view_order, _) = dependency_order(views.len(), &edges);
    let mut kept_views: Vec<&ViewRow> = Vec::new();
    for v in view_order.iter().map(|&i| &views[i]) {
        if !selected(options, &v.filter_name) {
            continue;
        }
        let missing = oids(&v.deps).into_iter().find(|dep| {
            known.contains(dep) && !is_dumped(dep) && !kept_views.iter().any(|k| k.oid == *dep)
        });
        match missing {
            Some(dep) => {
                let name = views
                    .iter()
                    .find(|w| w.oid == dep)
                    .map_or_else(|| name_of(dep), |w| w.name.clone());
                o.warnings.push(dropped_view(&v.name, &name));
            }
            None => kept_views.push(v),
        }
    }

    // Drops: dependants first. A filtered dump drops only what it recreates.
    let filtered = options.filtered();
    for v in kept_views.iter().rev() {
        let what = if v.kind == "m" {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        o.drops.push(Ddl::plain(format!(
            "DROP {what} IF EXISTS {} CASCADE",
            v.name
        )));
    }
    for t in dumped.iter().rev() {
        o.drops.push(Ddl::plain(format!(
            "DROP TABLE IF EXISTS {} CASCADE",
            t.name
        )));
    }
    for s in created_sequences.iter().rev() {
        o.drops.push(Ddl::plain(format!(
            "DROP SEQUENCE IF EXISTS {} CASCADE",
            s.name
        )));
    }
    if !filtered {
        for r in routines.iter().rev() {
            let what = r.extra.as_deref().unwrap_or("FUNCTION");
            o.drops.push(Ddl::plain(format!(
                "DROP {what} IF EXISTS {} CASCADE",
                r.name
            )));
        }
        for t in types.iter().rev() {
            let what = t.extra.as_deref().unwrap_or("TYPE");
            o.drops.push(Ddl::plain(format!(
                "DROP {what} IF EXISTS {} CASCADE",
                t.name
            )));
        }
        for s in schemas.iter().rev() {
            o.drops
                .push(Ddl::plain(format!("DROP SCHEMA IF EXISTS {s} CASCADE")));
        }
    }

    o.before.extend(
        schemas
            .iter()
            .map(|s| Ddl::plain(format!("CREATE SCHEMA IF NOT EXISTS {s}"))),
    );
    o.before.extend(types.into_iter().map(|t| {
        if filtered {
            // Shared with tables left out, which the target may hold: create it if missing.
            Ddl::plain(format!(
                "DO $dbrev$ BEGIN {}; EXCEPTION WHEN duplicate_object THEN NULL; END $dbrev$",
                t.ddl
            ))
        } else {
            Ddl::plain(t.ddl)
        }
    }));
    o.before.extend(
        routines
            .into_iter()
            .map(|r| Ddl::plain(r.ddl.trim_end().to_owned())),
    );
    o.before
        .extend(created_sequences.iter().map(|s| Ddl::plain(s.ddl.clone())));
    o.before
        .extend(dumped.iter().map(|t| Ddl::plain(t.ddl.clone())));

    // Rows, parents first; deferrable keys are deferred and do not order.
    let table_index = |oid: &str| dumped.iter().position(|t| t.oid == oid);
    let edges: Vec<(usize, usize)> = kept_constraints
        .iter()
        .filter(|k| k.kind == "f" && k.deferrable != "true")
        .filter_map(|k| {
            Some((
                table_index(&k.table_oid)?,
                table_index(k.ref_oid.as_deref()?)?,
            ))
        })
        .collect();
    let (order, cyclic) = dependency_order(dumped.len(), &edges);
    if options.data_only && !cyclic.is_empty() {
        let names: Vec<&str> = cyclic.iter().map(|&i| dumped[i].name.as_str()).collect();
        o.warnings.push(key_cycle(&names));
    }
    let (columns, _) = super::columns_by_table(conn)?;
    for t in order.iter().map(|&i| dumped[i]) {
        let Some(table) = columns
            .iter()
            .find(|c| c.name == t.bare && c.schema == t.schema)
        else {
            continue;
        };
        let copied: Vec<&crate::inspect::ColumnRow> = table
            .columns
            .iter()
            .filter(|c| c.extra.as_deref() != Some("generated"))
            .collect();
        let identity = copied
            .iter()
            .any(|c| c.extra.as_deref() == Some("identity"));
        let quoted: Vec<String> = copied
            .iter()
            .map(|c| d.quote_ident(&c.column_name))
            .collect();
        let qualified = match &t.schema {
            Some(schema) => format!("{}.{}", d.quote_ident(schema), d.quote_ident(&t.bare)),
            None => d.quote_ident(&t.bare),
        };
        o.tables.push(DataTable {
            name: t.filter_name.clone(),
            insert: format!(
                "INSERT INTO {qualified} ({}){} VALUES",
                quoted.join(", "),
                if identity {
                    " OVERRIDING SYSTEM VALUE"
                } else {
                    ""
                }
            ),
            rows: RowSource::Copy {
                out: format!("COPY {qualified} ({}) TO STDOUT", quoted.join(", ")),
                into: format!("COPY {qualified} ({}) FROM stdin", quoted.join(", ")),
            },
        });
    }
    o.data_after
        .extend(own_sequences.iter().map(|s| Ddl::plain(s.setval.clone())));

    o.after.extend(
        own_sequences
            .iter()
            .filter(|s| s.owner.as_deref().is_some_and(is_dumped))
            .filter_map(|s| s.owned_by.clone())
            .map(Ddl::plain),
    );
    o.after
        .extend(kept_constraints.iter().map(|k| Ddl::plain(k.ddl.clone())));
    o.after.extend(
        indexes
            .iter()
            .filter(|i| is_dumped(&i.table_oid))
            .map(|i| Ddl::plain(i.ddl.clone())),
    );
    o.after
        .extend(kept_views.iter().map(|v| Ddl::plain(v.ddl.clone())));
    o.after.extend(
        triggers
            .iter()
            .filter(|t| is_dumped(&t.table_oid))
            .map(|t| Ddl::plain(t.ddl.clone())),
    );
    if !options.schema_only {
        if let Some(snapshot) = snapshot {
            o.reader = RowReader::Postgres(copy_session(conn.url(), &snapshot)?);
        }
    }
    Ok(o)
}

/// A second session that reads the rows with `COPY`, inside the dump's snapshot.
fn copy_session(url: &DatabaseUrl, snapshot: &str) -> Result<RawPostgres> {
    let mut session = RawPostgres::connect(url)?;
    session
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT {}; \
             SET TIME ZONE 'UTC'; SET datestyle = 'ISO, YMD'; SET intervalstyle = 'postgres'; SET extra_float_digits = 3",
            PostgresDialect.quote_literal(snapshot)
        ))
        .map_err(|e| query_error("joining the snapshot", e))?;
    Ok(session)
}

/// One table's rows as a `COPY … FROM stdin` block (what pg_dump writes).
pub(super) fn copy_rows(
    session: &mut RawPostgres,
    w: &mut CountingWriter<'_>,
    table: &DataTable,
    copy_out: &str,
    copy_in: &str,
    reporter: &crate::term::Reporter,
) -> Result<u64> {
    let bar = super::table_progress(reporter, &table.name);
    let io = |e: std::io::Error| crate::error::Error::Export(format!("writing the dump: {e}"));
    writeln!(w, "{copy_in};").map_err(io)?;
    let mut rows = 0u64;
    session
        .copy_out(copy_out, |chunk| {
            let before = rows;
            rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            if before / 4096 != rows / 4096 {
                bar.set_position(rows);
                bar.set_message(format!("{} written", indicatif::HumanBytes(w.bytes)));
            }
            w.write_all(chunk)
        })
        .map_err(|e| query_error(&format!("rows of {}", table.name), e))?;
    writeln!(w, "\\.").map_err(io)?;
    bar.finish_and_clear();
    Ok(rows)
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
