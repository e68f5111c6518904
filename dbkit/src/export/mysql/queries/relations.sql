-- Tables and views of the current database: what the dump locks and creates, and what a
-- snapshot compares of a table itself (engine, collation, options, comment).
SELECT CAST(TABLE_NAME AS CHAR) AS name, CAST(TABLE_TYPE AS CHAR) AS kind,
       CAST(ENGINE AS CHAR) AS engine, CAST(TABLE_COLLATION AS CHAR) AS collation,
       CAST(CREATE_OPTIONS AS CHAR) AS options, CAST(TABLE_COMMENT AS CHAR) AS comment
FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME
