-- The types of the database: one row per label of each enum type, in label order, and
-- one row without a label for every other type (pg_catalog's own, domains, ranges,
-- composite types, extensions' base types), so a type the model names that exists is never
-- created. Array types and the row types of tables and views are left out. Types of the
-- current schema get no schema name.
SELECT CASE WHEN n.nspname = current_schema() THEN NULL ELSE n.nspname::text END AS type_schema,
       t.typname::text AS type_name, t.typtype::text AS type_kind, e.enumlabel::text AS label
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_enum e ON e.enumtypid = t.oid
WHERE n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND t.typcategory <> 'A'
  AND (t.typtype <> 'c'
       OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
ORDER BY 1 NULLS FIRST, 2, e.enumsortorder
