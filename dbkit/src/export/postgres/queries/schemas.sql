-- Schemas: every one that is neither the system's nor an extension's.
SELECT n.oid::text AS oid, (n.nspname = current_schema())::text AS in_current_schema,
       quote_ident(n.nspname) AS name
FROM pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e')
ORDER BY n.nspname
