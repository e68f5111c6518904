-- Tables, partitioned tables and partitions: the name the filters see (bare in the current
-- schema, qualified elsewhere), how they are partitioned or attached, what they inherit,
-- and their size in pages as VACUUM, ANALYZE or CREATE INDEX last counted it (no lock taken:
-- a large table's rows are read in page ranges, the last one open-ended).
SELECT c.oid::text AS oid, (n.nspname = current_schema())::text AS in_current_schema, c.oid::regclass::text AS name,
       CASE WHEN n.nspname = current_schema() THEN c.relname::text ELSE c.oid::regclass::text END AS filter_name,
       c.relkind::text AS kind, c.relpersistence::text AS persistence,
       c.relispartition::text AS is_partition,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound,
       CASE WHEN c.relispartition THEN (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = c.oid) END AS parent,
       CASE WHEN c.relispartition THEN (SELECT i.inhparent::text FROM pg_inherits i WHERE i.inhrelid = c.oid) END AS parent_oid,
       CASE WHEN c.relispartition THEN pg_partition_root(c.oid)::oid::text END AS root,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN NOT c.relispartition THEN
           (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = c.oid)
       END AS inherits,
       array_to_string(c.reloptions, ', ') AS options,
       concat_ws(',', nullif(c.reltype, 0)::text, nullif(rt.typarray, 0)::text) AS alias_types,
       c.relrowsecurity::text AS row_security, c.relforcerowsecurity::text AS force_row_security,
       c.relpages::text AS pages
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_type rt ON rt.oid = c.reltype
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, c.relname
