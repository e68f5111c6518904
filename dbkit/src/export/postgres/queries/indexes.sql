-- Indexes of tables and materialized views that no constraint owns, the partitioned
-- index each partition's index is attached to, and the index a table is clustered on.
SELECT i.indexrelid::text AS oid, i.indexrelid::regclass::text AS name,
       (SELECT quote_ident(ic.relname) FROM pg_class ic WHERE ic.oid = i.indexrelid) AS bare_name,
       i.indrelid::text AS relation,
       i.indrelid::regclass::text AS relation_name, pg_get_indexdef(i.indexrelid) AS definition,
       (SELECT h.inhparent::regclass::text FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) AS parent_index,
       i.indisclustered::text AS clustered
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, i.indexrelid::regclass::text
