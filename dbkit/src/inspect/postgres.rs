//! PostgreSQL's catalog from `pg_catalog`: three queries (columns of tables, views and
//! partitions; keys and indexes; enum labels) for the user schemas in scope. Tables of the
//! current schema get no schema name.

use super::{Catalog, ColumnRow, EnumRow, KeyRow, SchemaScope, query};
use crate::db::Connection;
use crate::dialect::dialect_for;
use crate::error::Result;

const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

fn schema_of(column: &str) -> String {
    format!("CASE WHEN {column} = current_schema() THEN NULL ELSE {column}::text END")
}

/// The condition on `n.nspname` that selects the schemas in scope.
fn in_scope(scope: &SchemaScope) -> String {
    match scope {
        SchemaScope::All => USER_SCHEMAS.to_owned(),
        SchemaScope::Only(schemas) => {
            let dialect = dialect_for(crate::backend::Backend::Postgres);
            let named: Vec<String> = schemas
                .iter()
                .flatten()
                .map(|s| dialect.quote_literal(s))
                .collect();
            let mut any = Vec::new();
            if schemas.contains(&None) {
                any.push("n.nspname = current_schema()".to_owned());
            }
            if !named.is_empty() {
                any.push(format!("n.nspname IN ({})", named.join(", ")));
            }
            if any.is_empty() {
                return "FALSE".to_owned();
            }
            format!("({})", any.join(" OR "))
        }
    }
}

/// Reads columns, keys, indexes and enum types of the schemas in `scope`, and the columns
/// of their views, materialized views and partitions.
pub fn read(conn: &mut Connection, scope: &SchemaScope) -> Result<Catalog> {
    let mut catalog = Catalog::default();
    let scope = in_scope(scope);
    // A domain column: diesel reads information_schema's `udt_name`, the domain's base
    // type (one level down), so the base type travels along.
    let columns = format!(
        "SELECT {schema} AS table_schema, c.relname::text AS table_name, a.attname::text AS column_name, \
                format_type(a.atttypid, a.atttypmod) AS data_type, \
                CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable, \
                pg_get_expr(d.adbin, d.adrelid) AS column_default, \
                CASE WHEN a.attidentity <> '' THEN 'identity' WHEN a.attgenerated <> '' THEN 'generated' END AS extra, \
                CASE WHEN c.relispartition THEN 'partition' WHEN c.relkind = 'v' THEN 'view' \
                     WHEN c.relkind = 'm' THEN 'materialized view' END AS relation, \
                CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
         JOIN pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
         WHERE c.relkind IN ('r', 'p', 'v', 'm') AND {USER_SCHEMAS} AND {scope} \
         ORDER BY 1 NULLS FIRST, 2, a.attnum",
        schema = schema_of("n.nspname")
    );
    catalog.columns = query::<ColumnRow>(conn, &mut catalog, "columns", &columns)?;
    let actions = |column: &str| {
        format!(
            "CASE {column} WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END"
        )
    };
    let keys = format!(
        "SELECT {schema} AS table_schema, c.relname::text AS table_name, \
                CASE k.contype WHEN 'p' THEN 'PRIMARY' WHEN 'u' THEN 'UNIQUE' ELSE 'FOREIGN' END AS kind, \
                k.conname::text AS key_name, a.attname::text AS column_name, m.pos::text AS position, \
                {ref_schema} AS ref_schema, rc.relname::text AS ref_table, ra.attname::text AS ref_column, \
                CASE WHEN k.contype = 'f' THEN {on_delete} END AS on_delete, \
                CASE WHEN k.contype = 'f' THEN {on_update} END AS on_update \
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         CROSS JOIN LATERAL unnest(k.conkey, coalesce(k.confkey, k.conkey)) WITH ORDINALITY AS m(attnum, refnum, pos) \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = m.attnum \
         LEFT JOIN pg_class rc ON rc.oid = k.confrelid \
         LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
         LEFT JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = m.refnum \
         WHERE k.contype IN ('p', 'u', 'f') AND c.relkind IN ('r', 'p') AND {USER_SCHEMAS} AND {scope} \
         UNION ALL \
         SELECT {schema}, c.relname::text, CASE WHEN i.indisunique THEN 'UNIQUE INDEX' ELSE 'INDEX' END, \
                ic.relname::text, a.attname::text, m.pos::text, NULL, NULL, NULL, NULL, NULL \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS m(attnum, pos) \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = m.attnum \
         WHERE c.relkind IN ('r', 'p') AND {USER_SCHEMAS} AND {scope} \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
         ORDER BY 1 NULLS FIRST, 2, 3, 4, 6",
        schema = schema_of("n.nspname"),
        ref_schema = schema_of("rn.nspname"),
        on_delete = actions("k.confdeltype"),
        on_update = actions("k.confupdtype"),
    );
    catalog.keys = query::<KeyRow>(conn, &mut catalog, "keys", &keys)?;
    let enums = format!(
        "SELECT {schema} AS type_schema, t.typname::text AS type_name, e.enumlabel::text AS label \
         FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE {USER_SCHEMAS} ORDER BY 1 NULLS FIRST, 2, e.enumsortorder",
        schema = schema_of("n.nspname")
    );
    catalog.enums = query::<EnumRow>(conn, &mut catalog, "enum types", &enums)?;
    Ok(catalog)
}
