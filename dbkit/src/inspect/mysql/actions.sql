-- The ON DELETE / ON UPDATE actions of the foreign keys of the current database.
SELECT CAST(TABLE_NAME AS CHAR) AS table_name, CAST(CONSTRAINT_NAME AS CHAR) AS key_name,
       CAST(DELETE_RULE AS CHAR) AS on_delete, CAST(UPDATE_RULE AS CHAR) AS on_update
FROM information_schema.REFERENTIAL_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()
