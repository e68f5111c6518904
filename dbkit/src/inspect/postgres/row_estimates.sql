-- The planner's row estimate of each table in `{tables}` (rows `(name, schema)`, the
-- schema NULL for a name the search path resolves): `reltuples`, or the live-row count
-- before the first ANALYZE (when `reltuples` is -1). A name matches as written or folded to
-- lower case, as written first. Tables that do not exist give no row.
SELECT t.name AS table_name,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE c.live END AS row_count
FROM (VALUES {tables}) AS t(name, nspname)
JOIN LATERAL (
    SELECT pc.reltuples, s.n_live_tup AS live
    FROM pg_catalog.pg_class pc
    JOIN pg_catalog.pg_namespace n ON n.oid = pc.relnamespace
    LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = pc.oid
    WHERE pc.relkind IN ('r', 'p', 'm')
      AND (pc.relname = t.name OR pc.relname = lower(t.name))
      AND CASE WHEN t.nspname IS NULL THEN pg_catalog.pg_table_is_visible(pc.oid)
               ELSE n.nspname = t.nspname OR n.nspname = lower(t.nspname) END
    ORDER BY pc.relname = t.name DESC LIMIT 1
) AS c ON true
