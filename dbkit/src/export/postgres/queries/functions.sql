-- Functions and procedures (aggregates are read apart), as pg_get_functiondef writes them;
-- not those a type makes for itself (a range's constructors).
SELECT p.oid::text AS oid, (n.nspname = current_schema())::text AS in_current_schema, p.oid::regprocedure::text AS name, p.prokind::text AS kind,
       pg_get_functiondef(p.oid) AS ddl
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p', 'w')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype IN ('e', 'i'))
ORDER BY n.nspname, p.proname, p.oid
