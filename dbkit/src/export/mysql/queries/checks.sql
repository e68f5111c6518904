-- Check clauses (MariaDB names the table; MySQL 8 names checks uniquely per database).
SELECT * FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE()
