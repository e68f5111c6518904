-- Sequences: their options, the column that owns them (`a`: OWNED BY, `i`: an identity
-- column), their value, and the tables whose column defaults use them.
WITH used AS (
    SELECT u.refobjid, string_agg(DISTINCT ad.adrelid::text, ',') AS used_by
    FROM pg_depend u JOIN pg_attrdef ad ON ad.oid = u.objid
    WHERE u.classid = 'pg_attrdef'::regclass AND u.refclassid = 'pg_class'::regclass
    GROUP BY u.refobjid
)
SELECT c.oid::text AS oid, (n.nspname = current_schema())::text AS in_current_schema, c.oid::regclass::text AS name,
       CASE WHEN n.nspname = current_schema() THEN c.relname::text ELSE c.oid::regclass::text END AS filter_name,
       format_type(s.seqtypid, NULL) AS type,
       format('INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s%s',
              s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache,
              CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) AS options,
       own.refobjid::text AS owner, own.refobjsubid::text AS owner_column, own.deptype::text AS owner_kind,
       CASE WHEN own.deptype = 'a' THEN format('%s.%I', own.refobjid::regclass, a.attname) END AS owned_by,
       format('SELECT pg_catalog.setval(%L, %s, %s)', c.oid::regclass::text,
              coalesce(v.last_value, s.seqstart), CASE WHEN v.last_value IS NULL THEN 'false' ELSE 'true' END) AS setval,
       used.used_by
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (SELECT pg_sequence_last_value(c.oid) AS last_value) v
LEFT JOIN used ON used.refobjid = c.oid
LEFT JOIN pg_depend own ON own.objid = c.oid AND own.classid = 'pg_class'::regclass
     AND own.refclassid = 'pg_class'::regclass AND own.deptype IN ('a', 'i')
LEFT JOIN pg_attribute a ON a.attrelid = own.refobjid AND a.attnum = own.refobjsubid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
ORDER BY n.nspname, c.relname
