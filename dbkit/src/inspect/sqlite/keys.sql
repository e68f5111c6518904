-- Primary key, foreign key and index members of every table (not SQLite's own).
WITH tables AS (
    SELECT name FROM sqlite_master
    WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
)
SELECT NULL AS table_schema, t.name AS table_name, 'PRIMARY' AS kind, NULL AS key_name,
       c.name AS column_name, CAST(c.pk AS TEXT) AS position, NULL AS ref_schema,
       NULL AS ref_table, NULL AS ref_column, NULL AS on_delete, NULL AS on_update
FROM tables t JOIN pragma_table_info(t.name) c
WHERE c.pk > 0
UNION ALL
SELECT NULL, t.name, 'FOREIGN', 'fk' || f.id, f."from", CAST(f.seq + 1 AS TEXT), NULL,
       f."table", f."to", f.on_delete, f.on_update
FROM tables t JOIN pragma_foreign_key_list(t.name) f
UNION ALL
SELECT NULL, t.name,
       CASE WHEN i.origin = 'u' THEN 'UNIQUE' WHEN i."unique" THEN 'UNIQUE INDEX' ELSE 'INDEX' END,
       i.name, ii.name, CAST(ii.seqno + 1 AS TEXT), NULL, NULL, NULL, NULL, NULL
FROM tables t JOIN pragma_index_list(t.name) i JOIN pragma_index_info(i.name) ii
WHERE i.origin <> 'pk'
ORDER BY 2, 3, 4, 6
