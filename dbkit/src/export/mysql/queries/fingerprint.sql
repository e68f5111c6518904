-- One hash of everything a snapshot compares (snapshot.rs reads it with the other
-- queries of this directory): a line per object or member, as the server keeps it, and
-- the sum of the lines' SHA-256 prefixes (order does not matter; a column's position is
-- left out). Two catalogs with the same hash read as the same snapshot; a line this query
-- has that the snapshot does not read only makes a hash differ where the snapshots do not.
-- {index_expression} and {check_table} are MySQL 8's functional index members and
-- MariaDB's table of a check, or NULL where the server has no such column.
SELECT COUNT(*) AS objects,
       CAST(SUM(CAST(CONV(SUBSTRING(h, 1, 15), 16, 10) AS UNSIGNED)) AS CHAR) AS a,
       CAST(SUM(CAST(CONV(SUBSTRING(h, 16, 15), 16, 10) AS UNSIGNED)) AS CHAR) AS b,
       CAST(SUM(CAST(CONV(SUBSTRING(h, 31, 15), 16, 10) AS UNSIGNED)) AS CHAR) AS c
FROM (
    SELECT SHA2(CONCAT_WS(',', 'table', QUOTE(TABLE_NAME), QUOTE(TABLE_TYPE), QUOTE(ENGINE),
                          QUOTE(TABLE_COLLATION), QUOTE(CREATE_OPTIONS), QUOTE(TABLE_COMMENT)), 256) AS h
    FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
    UNION ALL
    SELECT SHA2(CONCAT_WS(',', 'column', QUOTE(TABLE_NAME), QUOTE(COLUMN_NAME), QUOTE(COLUMN_TYPE),
                          QUOTE(IS_NULLABLE), QUOTE(COLUMN_DEFAULT), QUOTE(EXTRA), QUOTE(COLLATION_NAME),
                          QUOTE(GENERATION_EXPRESSION), QUOTE(COLUMN_COMMENT)), 256)
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
    UNION ALL
    SELECT SHA2(CONCAT_WS(',', 'index', QUOTE(TABLE_NAME), QUOTE(INDEX_NAME), QUOTE(NON_UNIQUE),
                          QUOTE(SEQ_IN_INDEX), QUOTE(COLUMN_NAME), QUOTE({index_expression}),
                          QUOTE(SUB_PART), QUOTE(COLLATION), QUOTE(INDEX_TYPE), QUOTE(INDEX_COMMENT)), 256)
    FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
    UNION ALL
    SELECT SHA2(CONCAT_WS(',', 'constraint', QUOTE(TABLE_NAME), QUOTE(CONSTRAINT_NAME),
                          QUOTE(CONSTRAINT_TYPE)), 256)
    FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE()
    UNION ALL
    SELECT SHA2(CONCAT_WS(',', 'check', QUOTE({check_table}), QUOTE(CONSTRAINT_NAME),
                          QUOTE(CHECK_CLAUSE)), 256)
    FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()
    UNION ALL
    SELECT SHA2(CONCAT_WS(',', 'reference', QUOTE(k.TABLE_NAME), QUOTE(k.CONSTRAINT_NAME),
                          QUOTE(k.ORDINAL_POSITION), QUOTE(k.COLUMN_NAME), QUOTE(k.REFERENCED_TABLE_SCHEMA = k.TABLE_SCHEMA),
                          QUOTE(k.REFERENCED_TABLE_NAME), QUOTE(k.REFERENCED_COLUMN_NAME),
                          QUOTE(r.UPDATE_RULE), QUOTE(r.DELETE_RULE)), 256)
    FROM information_schema.KEY_COLUMN_USAGE k
    JOIN information_schema.REFERENTIAL_CONSTRAINTS r
      ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
     AND r.TABLE_NAME = k.TABLE_NAME
    WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
    UNION ALL
    SELECT SHA2(CONCAT_WS(',', 'view', QUOTE(TABLE_NAME), QUOTE(VIEW_DEFINITION), QUOTE(CHECK_OPTION),
                          QUOTE(SECURITY_TYPE)), 256)
    FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()
    UNION ALL
    SELECT SHA2(CONCAT_WS(',', 'routine', QUOTE(ROUTINE_TYPE), QUOTE(ROUTINE_NAME), QUOTE(DTD_IDENTIFIER),
                          QUOTE(ROUTINE_DEFINITION), QUOTE(IS_DETERMINISTIC), QUOTE(SQL_DATA_ACCESS),
                          QUOTE(SECURITY_TYPE), QUOTE(SQL_MODE), QUOTE(ROUTINE_COMMENT)), 256)
    FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()
    UNION ALL
    SELECT SHA2(CONCAT_WS(',', 'parameter', QUOTE(ROUTINE_TYPE), QUOTE(SPECIFIC_NAME), QUOTE(ORDINAL_POSITION),
                          QUOTE(PARAMETER_MODE), QUOTE(PARAMETER_NAME), QUOTE(DTD_IDENTIFIER)), 256)
    FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = DATABASE()
    UNION ALL
    SELECT SHA2(CONCAT_WS(',', 'trigger', QUOTE(EVENT_OBJECT_TABLE), QUOTE(TRIGGER_NAME), QUOTE(ACTION_TIMING),
                          QUOTE(EVENT_MANIPULATION), QUOTE(ACTION_ORDER), QUOTE(ACTION_STATEMENT),
                          QUOTE(SQL_MODE)), 256)
    FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()
    UNION ALL
    SELECT SHA2(CONCAT_WS(',', 'event', QUOTE(EVENT_NAME), QUOTE(EVENT_DEFINITION), QUOTE(EVENT_TYPE),
                          QUOTE(EXECUTE_AT), QUOTE(INTERVAL_VALUE), QUOTE(INTERVAL_FIELD), QUOTE(ENDS),
                          QUOTE(STATUS), QUOTE(ON_COMPLETION), QUOTE(EVENT_COMMENT), QUOTE(SQL_MODE),
                          QUOTE(TIME_ZONE)), 256)
    FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()
) catalog_lines
