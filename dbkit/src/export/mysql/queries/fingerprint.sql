-- The lines of the catalog's fingerprint (snapshot.rs sums their SHA-256 prefixes, so
-- their order does not matter): one per object or member, as the server keeps it, a
-- column's position left out. Two catalogs with the same lines read as the same snapshot;
-- a line this has that the snapshot does not read only makes them differ where the
-- snapshots do not. One part per `UNION ALL`; the first names the column. Where a part
-- about one table says `table:COLUMN` in braces, it is narrowed to that table
-- (` AND COLUMN = 'name'`, once per table of a scope: a lookup by name, where a join of
-- two catalog tables would read every table, hence the derived tables); the parts
-- without it are read only for every object. `index_expression` in braces: MySQL 8's
-- functional index members, else NULL. A part marked `with_check_table` in braces is for
-- servers whose CHECK_CONSTRAINTS names the table (MariaDB), `without_check_table` for
-- the others.
SELECT SHA2(CONCAT_WS(',', 'table', QUOTE(TABLE_NAME), QUOTE(TABLE_TYPE), QUOTE(ENGINE),
                      QUOTE(TABLE_COLLATION), QUOTE(CREATE_OPTIONS), QUOTE(TABLE_COMMENT)), 256) AS h
FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE(){table:TABLE_NAME}
UNION ALL
SELECT SHA2(CONCAT_WS(',', 'column', QUOTE(TABLE_NAME), QUOTE(COLUMN_NAME), QUOTE(COLUMN_TYPE),
                      QUOTE(IS_NULLABLE), QUOTE(COLUMN_DEFAULT), QUOTE(EXTRA), QUOTE(COLLATION_NAME),
                      QUOTE(GENERATION_EXPRESSION), QUOTE(COLUMN_COMMENT)), 256)
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE(){table:TABLE_NAME}
UNION ALL
SELECT SHA2(CONCAT_WS(',', 'index', QUOTE(TABLE_NAME), QUOTE(INDEX_NAME), QUOTE(NON_UNIQUE),
                      QUOTE(SEQ_IN_INDEX), QUOTE(COLUMN_NAME), QUOTE({index_expression}),
                      QUOTE(SUB_PART), QUOTE(COLLATION), QUOTE(INDEX_TYPE), QUOTE(INDEX_COMMENT)), 256)
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE(){table:TABLE_NAME}
UNION ALL
SELECT SHA2(CONCAT_WS(',', 'constraint', QUOTE(TABLE_NAME), QUOTE(CONSTRAINT_NAME),
                      QUOTE(CONSTRAINT_TYPE)), 256)
FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE(){table:TABLE_NAME}
UNION ALL
{with_check_table}SELECT SHA2(CONCAT_WS(',', 'check', QUOTE(TABLE_NAME), QUOTE(CONSTRAINT_NAME),
                      QUOTE(CHECK_CLAUSE)), 256)
FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE(){table:TABLE_NAME}
UNION ALL
{without_check_table}SELECT SHA2(CONCAT_WS(',', 'check', QUOTE(t.TABLE_NAME), QUOTE(c.CONSTRAINT_NAME),
                      QUOTE(c.CHECK_CLAUSE)), 256)
FROM (SELECT * FROM information_schema.TABLE_CONSTRAINTS
      WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_TYPE = 'CHECK'{table:TABLE_NAME}) t
JOIN (SELECT * FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()) c
  ON c.CONSTRAINT_NAME = t.CONSTRAINT_NAME
UNION ALL
SELECT SHA2(CONCAT_WS(',', 'reference', QUOTE(k.TABLE_NAME), QUOTE(k.CONSTRAINT_NAME),
                      QUOTE(k.ORDINAL_POSITION), QUOTE(k.COLUMN_NAME),
                      QUOTE(k.REFERENCED_TABLE_SCHEMA = k.TABLE_SCHEMA), QUOTE(k.REFERENCED_TABLE_NAME),
                      QUOTE(k.REFERENCED_COLUMN_NAME), QUOTE(r.UPDATE_RULE), QUOTE(r.DELETE_RULE)), 256)
FROM (SELECT * FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL{table:TABLE_NAME}) k
JOIN (SELECT * FROM information_schema.REFERENTIAL_CONSTRAINTS
      WHERE CONSTRAINT_SCHEMA = DATABASE(){table:TABLE_NAME}) r
  ON r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
UNION ALL
SELECT SHA2(CONCAT_WS(',', 'view', QUOTE(TABLE_NAME), QUOTE(VIEW_DEFINITION), QUOTE(CHECK_OPTION),
                      QUOTE(SECURITY_TYPE)), 256)
FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE(){table:TABLE_NAME}
UNION ALL
SELECT SHA2(CONCAT_WS(',', 'trigger', QUOTE(EVENT_OBJECT_TABLE), QUOTE(TRIGGER_NAME), QUOTE(ACTION_TIMING),
                      QUOTE(EVENT_MANIPULATION), QUOTE(ACTION_ORDER), QUOTE(ACTION_STATEMENT),
                      QUOTE(SQL_MODE)), 256)
FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE(){table:EVENT_OBJECT_TABLE}
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
SELECT SHA2(CONCAT_WS(',', 'event', QUOTE(EVENT_NAME), QUOTE(EVENT_DEFINITION), QUOTE(EVENT_TYPE),
                      QUOTE(EXECUTE_AT), QUOTE(INTERVAL_VALUE), QUOTE(INTERVAL_FIELD), QUOTE(ENDS),
                      QUOTE(STATUS), QUOTE(ON_COMPLETION), QUOTE(EVENT_COMMENT), QUOTE(SQL_MODE),
                      QUOTE(TIME_ZONE)), 256)
FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()
