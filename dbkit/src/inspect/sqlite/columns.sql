-- Columns of every table and view (not SQLite's own), in table order then column order,
-- with the table's CREATE statement (the CHECK constraints pragma_table_xinfo leaves out).
SELECT NULL AS table_schema, t.name AS table_name, c.name AS column_name,
       c.type AS data_type,
       CASE WHEN c."notnull" = 0 THEN 'YES' ELSE 'NO' END AS is_nullable,
       c.dflt_value AS column_default,
       CASE WHEN c.hidden IN (2, 3) THEN 'generated' END AS extra,
       CASE WHEN t.type = 'view' THEN 'view' END AS relation,
       NULL AS base_type, t.sql AS table_definition
FROM (SELECT name, type, sql FROM sqlite_master
      WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\') t
JOIN pragma_table_xinfo(t.name) c
ORDER BY t.name, c.cid
