-- Every index member of every table (the primary key is the index PRIMARY); MySQL 8's
-- functional index members and other columns a version adds come with `*`.
SELECT * FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX
