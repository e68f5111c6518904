-- Columns of the tables, views, materialized views and partitions of the user schemas in
-- scope. Tables of the current schema get no schema name. A domain column carries its
-- base type too: diesel reads information_schema's `udt_name`, the domain's base type.
SELECT CASE WHEN n.nspname = current_schema() THEN NULL ELSE n.nspname::text END AS table_schema,
       c.relname::text AS table_name, a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
       pg_get_expr(d.adbin, d.adrelid) AS column_default,
       CASE WHEN a.attidentity <> '' THEN 'identity'
            WHEN a.attgenerated <> '' THEN 'generated' END AS extra,
       CASE WHEN c.relispartition THEN 'partition' WHEN c.relkind = 'v' THEN 'view'
            WHEN c.relkind = 'm' THEN 'materialized view' END AS relation,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
       NULL AS table_definition
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p', 'v', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND {scope}
ORDER BY 1 NULLS FIRST, 2, a.attnum
