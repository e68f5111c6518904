-- The columns of every table, in order: type, collation where it is not the type's,
-- NOT NULL, default (and whether it calls a user's function), identity, generation.
SELECT a.attrelid::text AS relation, a.attnum::text AS number, quote_ident(a.attname) AS name,
       format_type(a.atttypid, a.atttypmod) AS type,
       CASE WHEN a.attcollation <> t.typcollation
            THEN (SELECT format('%I.%I', cn.nspname, co.collname)
                  FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                  WHERE co.oid = a.attcollation) END AS collation,
       a.attnotnull::text AS not_null, a.attislocal::text AS local,
       a.attidentity::text AS identity, a.attgenerated::text AS generated,
       d.oid::text AS default_oid, pg_get_expr(d.adbin, d.adrelid) AS default_value,
       EXISTS (SELECT 1 FROM pg_depend u JOIN pg_proc p ON p.oid = u.refobjid
               JOIN pg_namespace pn ON pn.oid = p.pronamespace
               WHERE u.classid = 'pg_attrdef'::regclass AND u.objid = d.oid
                 AND u.refclassid = 'pg_proc'::regclass
                 AND pn.nspname NOT IN ('pg_catalog', 'information_schema'))::text AS calls_function
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
ORDER BY a.attrelid, a.attnum
