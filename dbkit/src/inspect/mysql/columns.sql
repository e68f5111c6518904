-- Columns of the tables and views of the current database, in table then column order.
-- A generated column (EXTRA `STORED GENERATED` / `VIRTUAL GENERATED`; MySQL's
-- `DEFAULT_GENERATED` is an expression default, not one) reports `generated` or
-- `generated virtual`, with its expression as the default.
SELECT NULL AS table_schema, CAST(TABLE_NAME AS CHAR) AS table_name,
       CAST(COLUMN_NAME AS CHAR) AS column_name, CAST(COLUMN_TYPE AS CHAR) AS data_type,
       CAST(IS_NULLABLE AS CHAR) AS is_nullable, CAST(IF(EXTRA LIKE '%STORED GENERATED%' OR EXTRA LIKE '%VIRTUAL GENERATED%',
                GENERATION_EXPRESSION, COLUMN_DEFAULT) AS CHAR) AS column_default,
       CAST(CASE WHEN EXTRA LIKE '%STORED GENERATED%' THEN 'generated'
                 WHEN EXTRA LIKE '%VIRTUAL GENERATED%' THEN 'generated virtual'
                 ELSE NULLIF(EXTRA, '') END AS CHAR) AS extra,
       CAST(IF(TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.VIEWS
                              WHERE TABLE_SCHEMA = DATABASE()), 'view', NULL) AS CHAR) AS relation,
       NULL AS base_type, NULL AS table_definition
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
