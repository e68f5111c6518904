-- Index members (the primary key, unique and plain indexes), then foreign key members
-- with the referenced table and column, of the current database.
SELECT NULL AS table_schema, CAST(TABLE_NAME AS CHAR) AS table_name,
       CAST(IF(INDEX_NAME = 'PRIMARY', 'PRIMARY', IF(NON_UNIQUE = 0, 'UNIQUE', 'INDEX')) AS CHAR) AS kind,
       CAST(INDEX_NAME AS CHAR) AS key_name, CAST(COLUMN_NAME AS CHAR) AS column_name,
       CAST(SEQ_IN_INDEX AS CHAR) AS position, NULL AS ref_schema, NULL AS ref_table,
       NULL AS ref_column, NULL AS on_delete, NULL AS on_update
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME IS NOT NULL
UNION ALL
SELECT NULL, CAST(TABLE_NAME AS CHAR), CAST('FOREIGN' AS CHAR), CAST(CONSTRAINT_NAME AS CHAR),
       CAST(COLUMN_NAME AS CHAR), CAST(ORDINAL_POSITION AS CHAR), NULL,
       CAST(REFERENCED_TABLE_NAME AS CHAR), CAST(REFERENCED_COLUMN_NAME AS CHAR), NULL, NULL
FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
