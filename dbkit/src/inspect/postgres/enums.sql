-- The labels of every enum type of the user schemas, in order. Types of the current
-- schema get no schema name.
SELECT CASE WHEN n.nspname = current_schema() THEN NULL ELSE n.nspname::text END AS type_schema,
       t.typname::text AS type_name, e.enumlabel::text AS label
FROM pg_enum e
JOIN pg_type t ON t.oid = e.enumtypid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
ORDER BY 1 NULLS FIRST, 2, e.enumsortorder
