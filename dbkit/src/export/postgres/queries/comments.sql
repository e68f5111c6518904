-- Every comment, as the COMMENT ON statement that sets it, by the object it is on (the
-- database's own comment belongs to a dump that creates the database, as pg_dump's does).
SELECT d.classoid::regclass::text AS catalog, d.objoid::text AS oid,
       format('COMMENT ON %s IS %L', target, d.description) AS statement
FROM pg_description d
CROSS JOIN LATERAL (
    SELECT CASE d.classoid
        WHEN 'pg_class'::regclass THEN (
            SELECT CASE WHEN d.objsubid > 0
                        THEN format('COLUMN %s.%I', c.oid::regclass,
                                    (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = d.objsubid))
                        WHEN c.relkind = 'c' THEN 'TYPE ' || c.reltype::regtype::text
                        ELSE CASE c.relkind WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW '
                                            WHEN 'S' THEN 'SEQUENCE ' WHEN 'i' THEN 'INDEX ' WHEN 'I' THEN 'INDEX '
                                            WHEN 'f' THEN 'FOREIGN TABLE ' ELSE 'TABLE ' END || c.oid::regclass::text
                   END
            FROM pg_class c WHERE c.oid = d.objoid)
        WHEN 'pg_proc'::regclass THEN (
            SELECT CASE p.prokind
                       WHEN 'a' THEN format('AGGREGATE %I.%I(%s)', pn.nspname, p.proname,
                                            CASE WHEN p.pronargs = 0 THEN '*' ELSE pg_get_function_identity_arguments(p.oid) END)
                       WHEN 'p' THEN 'PROCEDURE ' || p.oid::regprocedure::text
                       ELSE 'FUNCTION ' || p.oid::regprocedure::text END
            FROM pg_proc p JOIN pg_namespace pn ON pn.oid = p.pronamespace WHERE p.oid = d.objoid)
        WHEN 'pg_type'::regclass THEN (
            SELECT CASE WHEN t.typtype = 'd' THEN 'DOMAIN ' ELSE 'TYPE ' END || t.oid::regtype::text
            FROM pg_type t WHERE t.oid = d.objoid)
        WHEN 'pg_namespace'::regclass THEN (
            SELECT 'SCHEMA ' || quote_ident(n.nspname) FROM pg_namespace n WHERE n.oid = d.objoid)
        WHEN 'pg_constraint'::regclass THEN (
            SELECT CASE WHEN k.conrelid <> 0 THEN format('CONSTRAINT %I ON %s', k.conname, k.conrelid::regclass)
                        ELSE format('CONSTRAINT %I ON DOMAIN %s', k.conname, k.contypid::regtype) END
            FROM pg_constraint k WHERE k.oid = d.objoid)
        WHEN 'pg_trigger'::regclass THEN (
            SELECT format('TRIGGER %I ON %s', t.tgname, t.tgrelid::regclass) FROM pg_trigger t WHERE t.oid = d.objoid)
        WHEN 'pg_extension'::regclass THEN (
            SELECT 'EXTENSION ' || quote_ident(e.extname) FROM pg_extension e WHERE e.oid = d.objoid)
        WHEN 'pg_statistic_ext'::regclass THEN (
            SELECT format('STATISTICS %I.%I', sn.nspname, s.stxname)
            FROM pg_statistic_ext s JOIN pg_namespace sn ON sn.oid = s.stxnamespace WHERE s.oid = d.objoid)
        WHEN 'pg_rewrite'::regclass THEN (
            SELECT format('RULE %I ON %s', r.rulename, r.ev_class::regclass) FROM pg_rewrite r WHERE r.oid = d.objoid)
        WHEN 'pg_policy'::regclass THEN (
            SELECT format('POLICY %I ON %s', p.polname, p.polrelid::regclass) FROM pg_policy p WHERE p.oid = d.objoid)
    END AS target
) o
WHERE o.target IS NOT NULL AND d.objoid >= 16384
ORDER BY d.classoid, d.objoid, d.objsubid
