-- Views and materialized views: the query, options, whether a materialized view holds
-- rows, and the row type and rule that pg_depend names them by.
SELECT c.oid::text AS oid, (n.nspname = current_schema())::text AS in_current_schema, c.oid::regclass::text AS name,
       CASE WHEN n.nspname = current_schema() THEN c.relname::text ELSE c.oid::regclass::text END AS filter_name,
       c.relkind::text AS kind, rtrim(pg_get_viewdef(c.oid), E'; \n') AS query,
       array_to_string(c.reloptions, ', ') AS options, c.relispopulated::text AS populated,
       concat_ws(',', nullif(c.reltype, 0)::text, nullif(rt.typarray, 0)::text) AS alias_types,
       (SELECT string_agg(r.oid::text, ',') FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename = '_RETURN') AS alias_rules
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_type rt ON rt.oid = c.reltype
WHERE c.relkind IN ('v', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, c.relname
