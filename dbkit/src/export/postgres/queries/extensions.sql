-- Extensions the user installed (those created with the cluster, like plpgsql, have
-- oids below FirstNormalObjectId and come with every database).
SELECT e.oid::text AS oid, quote_ident(e.extname) AS name, quote_ident(n.nspname) AS schema
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.oid >= 16384
ORDER BY e.extname
