-- One hash of what a snapshot compares (snapshot.rs reads it with the other queries of
-- this directory): a line per object, as the server renders it, without oids or column
-- numbers, sorted. Two catalogs with the same hash read as the same snapshot; a line this
-- query has that the snapshot does not read only makes a hash differ where the snapshots
-- do not, never the other way round.
--
-- $1: NULL for every object; or the words of the SQL that ran, for only the relations
-- (tables, views, sequences) they name — by their own name or one of their indexes,
-- constraints, triggers, rules or policies — with their partitions and children and the
-- sequences they own, and what belongs to them, and the types and domains they name.
-- (What SQL without the words snapshot.rs lists can change goes no further.)
-- $2: whether that SQL changes rows.
-- Also says what could reach further than the words: event triggers, a routine the words
-- name, triggers or rules that changing rows fires.
WITH ns AS MATERIALIZED (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
),
word AS MATERIALIZED (
    SELECT DISTINCT unnest($1::text[]) AS word
),
named AS (
    SELECT coalesce(i.indrelid, c.oid) AS oid
    FROM word
    CROSS JOIN LATERAL (SELECT c.oid, c.relnamespace FROM pg_class c
                        WHERE c.relname = word.word OFFSET 0) c
    JOIN ns ON ns.oid = c.relnamespace
    LEFT JOIN pg_index i ON i.indexrelid = c.oid
    UNION SELECT k.conrelid FROM word
    CROSS JOIN LATERAL (SELECT k.conrelid FROM pg_constraint k
                        WHERE k.conname = word.word AND k.conrelid <> 0 OFFSET 0) k
    UNION SELECT t.tgrelid FROM pg_trigger t WHERE t.tgname = ANY ($1::text[])
    UNION SELECT w.ev_class FROM pg_rewrite w WHERE w.rulename = ANY ($1::text[])
    UNION SELECT p.polrelid FROM pg_policy p WHERE p.polname = ANY ($1::text[])
),
scope AS (
    WITH RECURSIVE tree(oid) AS (
        SELECT oid FROM named
        UNION SELECT h.inhrelid FROM pg_inherits h JOIN tree ON h.inhparent = tree.oid
    )
    SELECT oid FROM tree
    UNION
    SELECT owned.objid FROM tree CROSS JOIN LATERAL (
        SELECT d.objid FROM pg_depend d
        WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = tree.oid
          AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        OFFSET 0
    ) owned
),
candidate AS (
    SELECT c.oid FROM pg_class c WHERE $1::text[] IS NULL
    UNION ALL
    SELECT oid FROM scope WHERE $1::text[] IS NOT NULL
),
rel AS MATERIALIZED (
    SELECT c.oid, c.oid::regclass::text AS name, c.relkind, c.relpersistence, c.relispartition,
           c.relpartbound, c.reloptions, c.relrowsecurity, c.relforcerowsecurity
    FROM candidate x
    CROSS JOIN LATERAL (SELECT * FROM pg_class c WHERE c.oid = x.oid OFFSET 0) c
    JOIN ns ON ns.oid = c.relnamespace
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM pg_depend e WHERE e.classid = 'pg_class'::regclass
                        AND e.objid = c.oid AND e.deptype = 'e') member
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND member.n = 0
),
typ AS MATERIALIZED (
    SELECT t.oid FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
    WHERE $1::text[] IS NULL AND t.typtype IN ('e', 'c', 'd', 'r')
    UNION ALL
    SELECT t.oid FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
    WHERE t.typname = ANY ($1::text[]) AND t.typtype IN ('e', 'c', 'd', 'r')
),
line AS (
    SELECT ROW('schema', ns.nspname)::text AS line FROM ns
    WHERE $1::text[] IS NULL
      AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_namespace'::regclass
                      AND e.objid = ns.oid AND e.deptype = 'e')
    UNION ALL
    SELECT ROW('extension', e.extname, n.nspname)::text
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE $1::text[] IS NULL AND e.oid >= 16384
    UNION ALL
    SELECT ROW('type', t.oid::regtype::text, t.typtype,
               (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                FROM pg_enum e WHERE e.enumtypid = t.oid),
               (SELECT string_agg(format('%I %s %s', a.attname, format_type(a.atttypid, a.atttypmod),
                                         (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                                          JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                          WHERE co.oid = a.attcollation)),
                                  ', ' ORDER BY a.attnum)
                FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped),
               CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
               (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation),
               t.typdefault, t.typnotnull,
               format_type(r.rngsubtype, NULL),
               (SELECT format('%I.%I', ocn.nspname, oc.opcname) FROM pg_opclass oc
                JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace WHERE oc.oid = r.rngsubopc),
               (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = r.rngcollation),
               r.rngcanonical::regproc::text, r.rngsubdiff::regproc::text,
               (SELECT mr.oid::regtype::text FROM pg_type mr
                WHERE mr.oid = (to_jsonb(r) ->> 'rngmultitypid')::oid))::text
    FROM typ JOIN pg_type t ON t.oid = typ.oid
    LEFT JOIN pg_range r ON r.rngtypid = t.oid
    WHERE (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
      AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass
                      AND e.objid = t.oid AND e.deptype = 'e')
    UNION ALL
    SELECT ROW('routine', p.oid::regprocedure::text, p.prokind,
               CASE WHEN p.prokind = 'a' THEN NULL ELSE pg_get_functiondef(p.oid) END,
               (SELECT ROW(a.aggkind, a.aggnumdirectargs, a.aggtransfn::regproc, a.aggfinalfn::regproc,
                           a.aggcombinefn::regproc, a.aggserialfn::regproc, a.aggdeserialfn::regproc,
                           a.aggmtransfn::regproc, a.aggminvtransfn::regproc, a.aggmfinalfn::regproc,
                           a.aggfinalextra, a.aggmfinalextra, a.aggfinalmodify, a.aggmfinalmodify,
                           a.aggsortop::regoperator, format_type(a.aggtranstype, NULL), a.aggtransspace,
                           format_type(a.aggmtranstype, NULL), a.aggmtransspace, a.agginitval,
                           a.aggminitval, p.proparallel)::text
                FROM pg_aggregate a WHERE a.aggfnoid = p.oid))::text
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
    WHERE $1::text[] IS NULL AND p.prokind IN ('f', 'p', 'w', 'a')
      AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass
                      AND e.objid = p.oid AND e.deptype IN ('e', 'i'))
    UNION ALL
    SELECT ROW('relation', r.name, r.relkind, r.relpersistence, r.reloptions, r.relrowsecurity,
               r.relforcerowsecurity,
               CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END,
               CASE WHEN r.relispartition THEN pg_get_expr(r.relpartbound, r.oid) END,
               (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
                FROM pg_inherits i WHERE i.inhrelid = r.oid),
               CASE WHEN r.relkind IN ('v', 'm') THEN pg_get_viewdef(r.oid) END,
               CASE WHEN r.relkind = 'S' THEN
                   (SELECT ROW(format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax,
                               s.seqstart, s.seqcache, s.seqcycle)::text
                    FROM pg_sequence s WHERE s.seqrelid = r.oid) END,
               CASE WHEN r.relkind = 'S' THEN
                   (SELECT string_agg(format('%s %s.%I', own.deptype, own.refobjid::regclass, a.attname), ', ')
                    FROM pg_depend own
                    JOIN pg_attribute a ON a.attrelid = own.refobjid AND a.attnum = own.refobjsubid
                    WHERE own.classid = 'pg_class'::regclass AND own.objid = r.oid
                      AND own.refclassid = 'pg_class'::regclass AND own.deptype IN ('a', 'i')) END)::text
    FROM rel r
    UNION ALL
    SELECT ROW('column', r.name, a.attname, format_type(a.atttypid, a.atttypmod),
               (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation),
               a.attnotnull, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid))::text
    FROM rel r
    CROSS JOIN LATERAL (SELECT * FROM pg_attribute a WHERE a.attrelid = r.oid
                        AND a.attnum > 0 AND NOT a.attisdropped OFFSET 0) a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE r.relkind IN ('r', 'p')
    UNION ALL
    SELECT ROW('constraint', r.name, k.conname, k.contype, pg_get_constraintdef(k.oid))::text
    FROM rel r
    CROSS JOIN LATERAL (SELECT * FROM pg_constraint k WHERE k.conrelid = r.oid
                        AND k.contype IN ('p', 'u', 'c', 'x', 'f') OFFSET 0) k
    UNION ALL
    SELECT ROW('constraint', k.contypid::regtype::text, k.conname, k.contype,
               pg_get_constraintdef(k.oid))::text
    FROM typ JOIN pg_constraint k ON k.contypid = typ.oid
    UNION ALL
    SELECT ROW('index', i.indexrelid::regclass::text, r.name, pg_get_indexdef(i.indexrelid))::text
    FROM rel r
    CROSS JOIN LATERAL (SELECT * FROM pg_index i WHERE i.indrelid = r.oid OFFSET 0) i
    WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                      AND k.contype IN ('p', 'u', 'x'))
    UNION ALL
    SELECT ROW('trigger', r.name, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled)::text
    FROM rel r
    CROSS JOIN LATERAL (SELECT * FROM pg_trigger t WHERE t.tgrelid = r.oid OFFSET 0) t
    -- pg_trigger.tgparentid exists from PostgreSQL 13 on.
    WHERE NOT t.tgisinternal AND coalesce((to_jsonb(t) ->> 'tgparentid')::oid, 0) = 0
    UNION ALL
    SELECT ROW('rule', r.name, w.rulename, pg_get_ruledef(w.oid), w.ev_enabled)::text
    FROM rel r
    CROSS JOIN LATERAL (SELECT * FROM pg_rewrite w WHERE w.ev_class = r.oid OFFSET 0) w
    WHERE w.rulename <> '_RETURN'
    UNION ALL
    SELECT ROW('statistics', format('%I.%I', ns.nspname, s.stxname), pg_get_statisticsobjdef(s.oid))::text
    FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
    WHERE $1::text[] IS NULL
      AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_statistic_ext'::regclass
                      AND e.objid = s.oid AND e.deptype = 'e')
    UNION ALL
    SELECT ROW('policy', r.name, p.polname, p.polpermissive, p.polcmd,
               (SELECT string_agg(CASE WHEN o = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(o)::text END, ', ' ORDER BY o)
                FROM unnest(p.polroles) o),
               pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))::text
    FROM rel r
    CROSS JOIN LATERAL (SELECT * FROM pg_policy p WHERE p.polrelid = r.oid OFFSET 0) p
    UNION ALL
    SELECT ROW('comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)::text
    FROM pg_description d
    WHERE $1::text[] IS NULL AND d.objoid >= 16384
    UNION ALL
    SELECT ROW('comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)::text
    FROM (
        SELECT 'pg_class'::regclass AS catalog, r.oid FROM rel r
        UNION ALL SELECT 'pg_class'::regclass, i.indexrelid FROM rel r CROSS JOIN LATERAL
            (SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = r.oid OFFSET 0) i
        UNION ALL SELECT 'pg_constraint'::regclass, k.oid FROM rel r CROSS JOIN LATERAL
            (SELECT k.oid FROM pg_constraint k WHERE k.conrelid = r.oid OFFSET 0) k
        UNION ALL SELECT 'pg_trigger'::regclass, t.oid FROM rel r CROSS JOIN LATERAL
            (SELECT t.oid FROM pg_trigger t WHERE t.tgrelid = r.oid OFFSET 0) t
        UNION ALL SELECT 'pg_rewrite'::regclass, w.oid FROM rel r CROSS JOIN LATERAL
            (SELECT w.oid FROM pg_rewrite w WHERE w.ev_class = r.oid OFFSET 0) w
        UNION ALL SELECT 'pg_policy'::regclass, p.oid FROM rel r CROSS JOIN LATERAL
            (SELECT p.oid FROM pg_policy p WHERE p.polrelid = r.oid OFFSET 0) p
        UNION ALL SELECT 'pg_type'::regclass, typ.oid FROM typ
        UNION ALL SELECT 'pg_constraint'::regclass, k.oid FROM typ JOIN pg_constraint k ON k.contypid = typ.oid
    ) o
    CROSS JOIN LATERAL (SELECT * FROM pg_description d
                        WHERE d.objoid = o.oid AND d.classoid = o.catalog OFFSET 0) d
    WHERE $1::text[] IS NOT NULL
)
SELECT encode(sha256(convert_to(coalesce(string_agg(line, E'\n' ORDER BY line), ''), 'UTF8')), 'hex')
           AS hash,
       EXISTS (SELECT 1 FROM pg_event_trigger) AS event_triggers,
       EXISTS (SELECT 1 FROM word CROSS JOIN LATERAL
                   (SELECT p.pronamespace FROM pg_proc p WHERE p.proname = word.word OFFSET 0) p
               JOIN ns ON ns.oid = p.pronamespace) AS names_a_routine,
       $2::bool AND (EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                             JOIN ns ON ns.oid = c.relnamespace WHERE NOT t.tgisinternal)
                     OR EXISTS (SELECT 1 FROM pg_rewrite w JOIN pg_class c ON c.oid = w.ev_class
                                JOIN ns ON ns.oid = c.relnamespace WHERE w.rulename <> '_RETURN'))
           AS fires_code
FROM line
