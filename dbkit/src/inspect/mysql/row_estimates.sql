-- InnoDB's row estimate of each table `{tables}` names (one `table_schema = .. AND
-- table_name = ..` condition per table, the schema `DATABASE()` for an unqualified name).
-- Tables that do not exist give no row.
SELECT table_name AS table_name, CAST(table_rows AS SIGNED) AS row_count
FROM information_schema.tables
WHERE {tables}
