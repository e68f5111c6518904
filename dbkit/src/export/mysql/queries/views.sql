-- Views: the server's rendering of the query (its own database's name in it is taken
-- out when the snapshot is built), check option and security.
SELECT CAST(TABLE_NAME AS CHAR) AS name, CAST(VIEW_DEFINITION AS CHAR) AS definition,
       CAST(CHECK_OPTION AS CHAR) AS check_option, CAST(SECURITY_TYPE AS CHAR) AS security
FROM information_schema.VIEWS
WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME
