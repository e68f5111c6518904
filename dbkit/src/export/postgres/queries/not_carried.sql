-- Objects pg_dump carries that this dump does not write, to name in a warning: foreign
-- tables and what they need, typed tables' types, base types, operators and their
-- classes, casts, collations, text search objects, conversions, languages, access
-- methods, event triggers, publications, large objects, extension configuration rows.
WITH user_ns AS (
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%'
), member AS (
    SELECT classid, objid FROM pg_depend WHERE deptype IN ('e', 'i')
)
SELECT what FROM (
    SELECT 'foreign table ' || c.oid::regclass::text AS what FROM pg_class c
    WHERE c.relkind = 'f' AND c.relnamespace IN (SELECT oid FROM user_ns)
      AND (('pg_class'::regclass, c.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'the type of typed table ' || c.oid::regclass::text FROM pg_class c
    WHERE c.reloftype <> 0 AND c.relnamespace IN (SELECT oid FROM user_ns)
    UNION ALL
    SELECT 'base type ' || t.oid::regtype::text FROM pg_type t
    WHERE t.typtype = 'b' AND t.typnamespace IN (SELECT oid FROM user_ns)
      AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
      AND (('pg_type'::regclass, t.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'operator ' || o.oid::regoperator::text FROM pg_operator o
    WHERE o.oprnamespace IN (SELECT oid FROM user_ns)
      AND (('pg_operator'::regclass, o.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'operator class ' || quote_ident(o.opcname) FROM pg_opclass o
    WHERE o.opcnamespace IN (SELECT oid FROM user_ns)
      AND (('pg_opclass'::regclass, o.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'operator family ' || quote_ident(o.opfname) FROM pg_opfamily o
    WHERE o.opfnamespace IN (SELECT oid FROM user_ns)
      AND (('pg_opfamily'::regclass, o.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT format('cast (%s AS %s)', c.castsource::regtype, c.casttarget::regtype) FROM pg_cast c
    WHERE c.oid >= 16384 AND (('pg_cast'::regclass, c.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'collation ' || quote_ident(c.collname) FROM pg_collation c
    WHERE c.collnamespace IN (SELECT oid FROM user_ns)
      AND (('pg_collation'::regclass, c.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'text search configuration ' || quote_ident(c.cfgname) FROM pg_ts_config c
    WHERE c.cfgnamespace IN (SELECT oid FROM user_ns)
      AND (('pg_ts_config'::regclass, c.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'text search dictionary ' || quote_ident(d.dictname) FROM pg_ts_dict d
    WHERE d.dictnamespace IN (SELECT oid FROM user_ns)
      AND (('pg_ts_dict'::regclass, d.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'conversion ' || quote_ident(c.conname) FROM pg_conversion c
    WHERE c.connamespace IN (SELECT oid FROM user_ns)
      AND (('pg_conversion'::regclass, c.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'language ' || quote_ident(l.lanname) FROM pg_language l
    WHERE l.oid >= 16384 AND (('pg_language'::regclass, l.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'access method ' || quote_ident(a.amname) FROM pg_am a
    WHERE a.oid >= 16384 AND (('pg_am'::regclass, a.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'event trigger ' || quote_ident(e.evtname) FROM pg_event_trigger e
    WHERE (('pg_event_trigger'::regclass, e.oid) NOT IN (SELECT classid, objid FROM member))
    UNION ALL
    SELECT 'publication ' || quote_ident(p.pubname) FROM pg_publication p
    UNION ALL
    SELECT count(*) || ' large object(s)' FROM pg_largeobject_metadata HAVING count(*) > 0
    UNION ALL
    SELECT 'the rows of extension ' || quote_ident(e.extname) || '''s configuration tables' FROM pg_extension e
    WHERE e.extconfig IS NOT NULL
) o
ORDER BY 1
