-- Constraints of tables (keys, checks, exclusions, foreign keys) and of domains (checks),
-- with what decides where each goes: inherited or cloned into a partition, validated,
-- calling a user's function, and the index it is built on.
SELECT k.oid::text AS oid, quote_ident(k.conname) AS name, k.contype::text AS kind,
       nullif(k.conrelid, 0)::text AS relation, nullif(k.contypid, 0)::text AS domain,
       pg_get_constraintdef(k.oid) AS definition,
       k.conislocal::text AS local, k.convalidated::text AS validated,
       (k.conparentid <> 0)::text AS cloned, k.condeferrable::text AS deferrable,
       nullif(k.confrelid, 0)::text AS referenced,
       CASE WHEN k.contype IN ('p', 'u', 'x') THEN nullif(k.conindid, 0)::text END AS index,
       CASE WHEN k.contype IN ('p', 'u', 'x') THEN nullif(k.conindid, 0)::regclass::text END AS index_name,
       (SELECT quote_ident(ic.relname) FROM pg_class ic WHERE ic.oid = k.conindid AND k.contype IN ('p', 'u', 'x')) AS index_bare_name,
       coalesce((SELECT ix.indisclustered FROM pg_index ix WHERE ix.indexrelid = k.conindid AND k.contype IN ('p', 'u', 'x')), false)::text AS clustered,
       (SELECT pk.conindid::regclass::text FROM pg_constraint pk WHERE pk.oid = k.conparentid AND k.contype IN ('p', 'u', 'x')) AS parent_index,
       EXISTS (SELECT 1 FROM pg_depend u JOIN pg_proc p ON p.oid = u.refobjid
               JOIN pg_namespace pn ON pn.oid = p.pronamespace
               WHERE u.classid = 'pg_constraint'::regclass AND u.objid = k.oid
                 AND u.refclassid = 'pg_proc'::regclass
                 AND pn.nspname NOT IN ('pg_catalog', 'information_schema'))::text AS calls_function
FROM pg_constraint k
LEFT JOIN pg_class c ON c.oid = k.conrelid
LEFT JOIN pg_type t ON t.oid = k.contypid
JOIN pg_namespace n ON n.oid = coalesce(c.relnamespace, t.typnamespace)
WHERE k.contype IN ('p', 'u', 'c', 'x', 'f')
  AND (c.relkind IN ('r', 'p') OR t.typtype = 'd')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
ORDER BY n.nspname, coalesce(c.relname, t.typname), k.conname
