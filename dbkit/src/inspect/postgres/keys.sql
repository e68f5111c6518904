-- Primary key, unique and foreign key members (with the referenced column and the
-- actions), then the members of indexes that back no constraint, of the tables of the
-- user schemas in scope.
SELECT CASE WHEN n.nspname = current_schema() THEN NULL ELSE n.nspname::text END AS table_schema,
       c.relname::text AS table_name,
       CASE k.contype WHEN 'p' THEN 'PRIMARY' WHEN 'u' THEN 'UNIQUE' ELSE 'FOREIGN' END AS kind,
       k.conname::text AS key_name, a.attname::text AS column_name, m.pos::text AS position,
       CASE WHEN rn.nspname = current_schema() THEN NULL ELSE rn.nspname::text END AS ref_schema,
       rc.relname::text AS ref_table, ra.attname::text AS ref_column,
       CASE WHEN k.contype = 'f' THEN
           CASE k.confdeltype WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
               WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END
       END AS on_delete,
       CASE WHEN k.contype = 'f' THEN
           CASE k.confupdtype WHEN 'r' THEN 'RESTRICT' WHEN 'c' THEN 'CASCADE'
               WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' ELSE 'NO ACTION' END
       END AS on_update
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(k.conkey, coalesce(k.confkey, k.conkey))
    WITH ORDINALITY AS m(attnum, refnum, pos)
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = m.attnum
LEFT JOIN pg_class rc ON rc.oid = k.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_attribute ra ON ra.attrelid = k.confrelid AND ra.attnum = m.refnum
WHERE k.contype IN ('p', 'u', 'f') AND c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND {scope}
UNION ALL
SELECT CASE WHEN n.nspname = current_schema() THEN NULL ELSE n.nspname::text END,
       c.relname::text, CASE WHEN i.indisunique THEN 'UNIQUE INDEX' ELSE 'INDEX' END,
       ic.relname::text, a.attname::text, m.pos::text, NULL, NULL, NULL, NULL, NULL
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS m(attnum, pos)
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = m.attnum
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
  AND {scope}
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY 1 NULLS FIRST, 2, 3, 4, 6
