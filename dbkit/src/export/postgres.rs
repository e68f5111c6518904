//! PostgreSQL's dump, assembled from the catalog the way pg_dump orders it: schemas, enum
//! and domain types, functions, sequences and tables before the rows; constraints (foreign
//! keys last), indexes, sequence values, views in dependency order, materialized views and
//! triggers after them. Rows are formatted by `quote_nullable`, which every type supports
//! and which reads back exactly through the column's input function.

use diesel::QueryableByName;
use diesel::sql_types::{Nullable, Text};

use std::io::Write;

use super::{
    CountingWriter, DataTable, Ddl, DumpOptions, Objects, RowSource, columns_by_table, query_error,
    selected,
};
use crate::db::{Connection, RawPostgres, ValueRow};
use crate::dialect::{Dialect, PostgresDialect};
use crate::error::Result;
use crate::url::DatabaseUrl;

const USER: &str =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";
/// Objects that belong to an extension are the extension's to create.
const NOT_EXTENSION: &str =
    "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = {oid} AND e.deptype = 'e')";

#[derive(QueryableByName)]
struct NamedDdl {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ddl: String,
    #[diesel(sql_type = Nullable<Text>)]
    extra: Option<String>,
}

fn values(conn: &mut Connection, what: &str, sql: &str) -> Result<Vec<String>> {
    Ok(conn
        .load::<ValueRow>(sql)
        .map_err(|e| query_error(what, e))?
        .into_iter()
        .filter_map(|r| r.value)
        .collect())
}

fn named(conn: &mut Connection, what: &str, sql: &str) -> Result<Vec<NamedDdl>> {
    conn.load::<NamedDdl>(sql).map_err(|e| query_error(what, e))
}

fn not_extension(oid: &str) -> String {
    NOT_EXTENSION.replace("{oid}", oid)
}

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
        snapshot,
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
    let sequences = named(
        conn,
        "sequences",
        &format!(
            "SELECT c.oid::regclass::text AS name, \
                    format('CREATE SEQUENCE %s AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s', \
                        c.oid::regclass, format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache, \
                        CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) AS ddl, NULL AS extra \
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {USER} AND {} \
               AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.objid = c.oid AND i.deptype = 'i') \
             ORDER BY c.oid",
            not_extension("c.oid")
        ),
    )?;
    let tables = named(
        conn,
        "tables",
        &format!(
            "SELECT c.oid::regclass::text AS name, format('CREATE TABLE %s (\n    %s\n)', c.oid::regclass, \
                string_agg(format('%I %s%s%s', a.attname, format_type(a.atttypid, a.atttypmod), \
                    CASE WHEN a.attidentity = 'a' THEN ' GENERATED ALWAYS AS IDENTITY' \
                         WHEN a.attidentity = 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' \
                         WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED' \
                         WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END, \
                    CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END), ',\n    ' ORDER BY a.attnum)) AS ddl, \
                CASE WHEN n.nspname = current_schema() THEN c.relname::text END AS extra \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {USER} AND {} \
             GROUP BY c.oid, n.nspname, c.relname ORDER BY c.oid",
            not_extension("c.oid")
        ),
    )?;
    let user_table = |alias: &str| format!("{alias}.relkind IN ('r', 'p') AND {USER}");
    let constraints = values(
        conn,
        "constraints",
        &format!(
            "SELECT format('ALTER TABLE ONLY %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid)) AS value \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE k.contype IN ('p', 'u', 'c', 'x', 'f') AND k.conislocal AND {} \
             ORDER BY k.contype = 'f', k.contype <> 'p', k.oid",
            user_table("c")
        ),
    )?;
    let indexes = values(
        conn,
        "indexes",
        &format!(
            "SELECT pg_get_indexdef(i.indexrelid) AS value FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY i.indexrelid",
            user_table("c")
        ),
    )?;
    let owned = values(
        conn,
        "sequence owners",
        &format!(
            "SELECT format('ALTER SEQUENCE %s OWNED BY %s.%I', s.oid::regclass, t.oid::regclass, a.attname) AS value \
             FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S' \
             JOIN pg_class t ON t.oid = dep.refobjid JOIN pg_namespace n ON n.oid = s.relnamespace \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = dep.refobjsubid \
             WHERE dep.deptype = 'a' AND dep.classid = 'pg_class'::regclass AND {USER} ORDER BY s.oid"
        ),
    )?;
    let counters = values(
        conn,
        "sequence values",
        "SELECT format('SELECT pg_catalog.setval(%L, %s, %s)', quote_ident(schemaname) || '.' || quote_ident(sequencename), \
                coalesce(last_value, start_value), CASE WHEN last_value IS NULL THEN 'false' ELSE 'true' END) AS value \
         FROM pg_sequences WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
    )?;
    let views = named(
        conn,
        "views",
        &format!(
            "SELECT c.oid::text AS name, format('CREATE %sVIEW %s AS\n%s', CASE c.relkind WHEN 'm' THEN 'MATERIALIZED ' ELSE '' END, \
                    c.oid::regclass, pg_get_viewdef(c.oid)) AS ddl, \
                    (SELECT string_agg(DISTINCT dep.refobjid::text, ',') FROM pg_rewrite r JOIN pg_depend dep ON dep.objid = r.oid \
                     WHERE r.ev_class = c.oid AND dep.refobjid <> c.oid) || '|' || c.oid::regclass::text || '|' || c.relkind::text AS extra \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('v', 'm') AND {USER} AND {} ORDER BY c.oid",
            not_extension("c.oid")
        ),
    )?;
    let triggers = if options.no_triggers {
        Vec::new()
    } else {
        values(
            conn,
            "triggers",
            &format!(
                "SELECT pg_get_triggerdef(t.oid) AS value FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND {} ORDER BY t.oid",
                user_table("c")
            ),
        )?
    };

    // Drops: dependants first; CASCADE takes what depends on each.
    let views = order_views(views);
    for (_, name, kind) in views.iter().rev() {
        let what = if kind == "m" {
            "MATERIALIZED VIEW"
        } else {
            "VIEW"
        };
        o.drops
            .push(Ddl::plain(format!("DROP {what} IF EXISTS {name} CASCADE")));
    }
    let table_selected = |t: &NamedDdl| selected(options, t.extra.as_deref().unwrap_or(&t.name));
    for t in tables.iter().filter(|t| table_selected(t)).rev() {
        o.drops.push(Ddl::plain(format!(
            "DROP TABLE IF EXISTS {} CASCADE",
            t.name
        )));
    }
    for s in sequences.iter().rev() {
        o.drops.push(Ddl::plain(format!(
            "DROP SEQUENCE IF EXISTS {} CASCADE",
            s.name
        )));
    }
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

    o.before.extend(
        schemas
            .iter()
            .map(|s| Ddl::plain(format!("CREATE SCHEMA IF NOT EXISTS {s}"))),
    );
    o.before
        .extend(types.into_iter().map(|t| Ddl::plain(t.ddl)));
    o.before.extend(
        routines
            .into_iter()
            .map(|r| Ddl::plain(r.ddl.trim_end().to_owned())),
    );
    o.before
        .extend(sequences.into_iter().map(|s| Ddl::plain(s.ddl)));
    o.before.extend(
        tables
            .iter()
            .filter(|t| table_selected(t))
            .map(|t| Ddl::plain(t.ddl.clone())),
    );

    for t in columns_by_table(conn)? {
        let bare = t.name.clone();
        if !selected(options, &bare) {
            continue;
        }
        let qualified = match &t.schema {
            Some(schema) => format!("{}.{}", d.quote_ident(schema), d.quote_ident(&t.name)),
            None => d.quote_ident(&t.name),
        };
        let copied: Vec<&crate::inspect::ColumnRow> = t
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
        o.tables.push(DataTable {
            name: match &t.schema {
                Some(s) => format!("{s}.{bare}"),
                None => bare,
            },
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

    o.after.extend(owned.into_iter().map(Ddl::plain));
    o.after.extend(counters.into_iter().map(Ddl::plain));
    o.after.extend(constraints.into_iter().map(Ddl::plain));
    o.after.extend(indexes.into_iter().map(Ddl::plain));
    o.after
        .extend(views.into_iter().map(|(ddl, _, _)| Ddl::plain(ddl)));
    o.after.extend(triggers.into_iter().map(Ddl::plain));
    Ok(o)
}

/// A second session that reads the rows with `COPY`, inside the dump's snapshot.
pub(super) fn copy_session(url: &DatabaseUrl, snapshot: &str) -> Result<RawPostgres> {
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

/// Views ordered so each comes after the views it reads: (ddl, name, relkind).
fn order_views(views: Vec<NamedDdl>) -> Vec<(String, String, String)> {
    let mut pending: Vec<(String, Vec<String>, String, String, String)> = views
        .into_iter()
        .map(|v| {
            let extra = v.extra.unwrap_or_default();
            let mut parts = extra.splitn(3, '|');
            let deps: Vec<String> = parts
                .next()
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let name = parts.next().unwrap_or_default().to_owned();
            let kind = parts.next().unwrap_or_default().to_owned();
            (v.name, deps, v.ddl, name, kind)
        })
        .collect();
    let oids: Vec<String> = pending.iter().map(|p| p.0.clone()).collect();
    let mut done: Vec<String> = Vec::new();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        let mut i = 0;
        while i < pending.len() {
            let ready = pending[i]
                .1
                .iter()
                .all(|dep| !oids.contains(dep) || done.contains(dep) || *dep == pending[i].0);
            if ready {
                let (oid, _, ddl, name, kind) = pending.remove(i);
                done.push(oid);
                out.push((ddl, name, kind));
            } else {
                i += 1;
            }
        }
        if pending.len() == before {
            out.extend(
                pending
                    .drain(..)
                    .map(|(_, _, ddl, name, kind)| (ddl, name, kind)),
            );
        }
    }
    out
}
