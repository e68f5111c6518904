-- Extended statistics (CREATE STATISTICS).
SELECT s.oid::text AS oid, format('%I.%I', n.nspname, s.stxname) AS name, s.stxrelid::text AS relation,
       pg_get_statisticsobjdef(s.oid) AS definition
FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_statistic_ext'::regclass AND e.objid = s.oid AND e.deptype = 'e')
ORDER BY n.nspname, s.stxname
