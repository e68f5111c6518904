-- Procedures and functions: what they return, their body as written, their
-- characteristics and the sql_mode they run under.
SELECT CAST(ROUTINE_NAME AS CHAR) AS name, CAST(ROUTINE_TYPE AS CHAR) AS kind,
       CAST(DTD_IDENTIFIER AS CHAR) AS returns, CAST(ROUTINE_DEFINITION AS CHAR) AS body,
       CAST(IS_DETERMINISTIC AS CHAR) AS is_deterministic, CAST(SQL_DATA_ACCESS AS CHAR) AS data_access,
       CAST(SECURITY_TYPE AS CHAR) AS security, CAST(SQL_MODE AS CHAR) AS sql_mode,
       CAST(ROUTINE_COMMENT AS CHAR) AS comment
FROM information_schema.ROUTINES
WHERE ROUTINE_SCHEMA = DATABASE()
ORDER BY ROUTINE_TYPE, ROUTINE_NAME
