-- Triggers the user created (not those behind foreign keys, nor the clones a partitioned
-- table's trigger makes on its partitions), and whether each is disabled.
SELECT t.oid::text AS oid, quote_ident(t.tgname) AS name, t.tgrelid::text AS relation,
       t.tgrelid::regclass::text AS relation_name, pg_get_triggerdef(t.oid) AS definition,
       t.tgenabled::text AS enabled
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal
  -- pg_trigger.tgparentid exists from PostgreSQL 13 on.
  AND coalesce((to_jsonb(t) ->> 'tgparentid')::oid, 0) = 0
  AND c.relkind IN ('r', 'p', 'v', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, c.relname, t.tgname
