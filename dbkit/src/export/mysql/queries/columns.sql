-- The columns of every table and view, in order: type, nullability, default, extras
-- (auto_increment, ON UPDATE, generated), collation, generation expression, comment.
SELECT CAST(TABLE_NAME AS CHAR) AS tbl, CAST(COLUMN_NAME AS CHAR) AS name,
       CAST(COLUMN_TYPE AS CHAR) AS type, CAST(IS_NULLABLE AS CHAR) AS nullable,
       CAST(COLUMN_DEFAULT AS CHAR) AS default_value, CAST(EXTRA AS CHAR) AS extra,
       CAST(COLLATION_NAME AS CHAR) AS collation,
       CAST(GENERATION_EXPRESSION AS CHAR) AS generation,
       CAST(COLUMN_COMMENT AS CHAR) AS comment
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
