-- Rewrite rules other than the ones that make views.
SELECT r.oid::text AS oid, quote_ident(r.rulename) AS name, r.ev_class::text AS relation,
       r.ev_class::regclass::text AS relation_name, rtrim(pg_get_ruledef(r.oid), E'; \n') AS definition
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, c.relname, r.rulename
