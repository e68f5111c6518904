-- Enum, composite, domain and range types, with what their CREATE statements need; the
-- other types they bring along (arrays, the composite's relation, multiranges) as aliases.
SELECT t.oid::text AS oid, (n.nspname = current_schema())::text AS in_current_schema, t.oid::regtype::text AS name, t.typtype::text AS kind,
       concat_ws(',', nullif(t.typarray, 0)::text, mr.oid::text, nullif(mr.typarray, 0)::text) AS alias_types,
       nullif(t.typrelid, 0)::text AS alias_class,
       (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
        FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels,
       (SELECT string_agg(format('%I %s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                   CASE WHEN a.attcollation <> at.typcollation
                        THEN (SELECT format(' COLLATE %I.%I', cn.nspname, co.collname)
                              FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                              WHERE co.oid = a.attcollation) ELSE '' END), E',\n    ' ORDER BY a.attnum)
        FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) AS attributes,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base,
       CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation
            THEN (SELECT format('%I.%I', cn.nspname, co.collname)
                  FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                  WHERE co.oid = t.typcollation) END AS collation,
       t.typdefault AS default_value,
       t.typnotnull::text AS not_null,
       format_type(r.rngsubtype, NULL) AS subtype,
       (SELECT format('%I.%I', ocn.nspname, oc.opcname) FROM pg_opclass oc
        JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace WHERE oc.oid = r.rngsubopc) AS opclass,
       CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
            THEN (SELECT format('%I.%I', cn.nspname, co.collname)
                  FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                  WHERE co.oid = r.rngcollation) END AS range_collation,
       nullif(r.rngcanonical, 0)::regproc::text AS canonical,
       nullif(r.rngsubdiff, 0)::regproc::text AS subdiff,
       mr.oid::regtype::text AS multirange
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_range r ON r.rngtypid = t.oid
LEFT JOIN pg_type st ON st.oid = r.rngsubtype
-- pg_range.rngmultitypid exists from PostgreSQL 14 on.
LEFT JOIN pg_type mr ON mr.oid = (to_jsonb(r) ->> 'rngmultitypid')::oid
WHERE t.typtype IN ('e', 'c', 'd', 'r')
  AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
ORDER BY n.nspname, t.typname
