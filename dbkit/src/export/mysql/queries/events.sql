-- Events: schedule, status, what they do. STARTS is left out: the server sets it to the
-- creation time when a statement gives none.
SELECT CAST(EVENT_NAME AS CHAR) AS name, CAST(EVENT_DEFINITION AS CHAR) AS body,
       CAST(EVENT_TYPE AS CHAR) AS kind, CAST(EXECUTE_AT AS CHAR) AS execute_at,
       CAST(INTERVAL_VALUE AS CHAR) AS interval_value, CAST(INTERVAL_FIELD AS CHAR) AS interval_field,
       CAST(ENDS AS CHAR) AS ends, CAST(STATUS AS CHAR) AS status,
       CAST(ON_COMPLETION AS CHAR) AS on_completion, CAST(EVENT_COMMENT AS CHAR) AS comment,
       CAST(SQL_MODE AS CHAR) AS sql_mode, CAST(TIME_ZONE AS CHAR) AS time_zone
FROM information_schema.EVENTS
WHERE EVENT_SCHEMA = DATABASE()
ORDER BY EVENT_NAME
