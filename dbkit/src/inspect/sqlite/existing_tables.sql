-- Which of the tables `{names}` lists (lower-case names) exist, and whether ANALYZE has
-- left statistics (`sqlite_stat1`).
SELECT name AS table_name, NULL AS row_count
FROM sqlite_master
WHERE type = 'table' AND (lower(name) IN ({names}) OR name = 'sqlite_stat1')
