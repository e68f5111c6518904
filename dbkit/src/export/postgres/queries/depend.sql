-- What depends on what among the user's objects (extension membership and pins left out).
SELECT d.classid::regclass::text AS catalog, d.objid::text AS oid,
       d.refclassid::regclass::text AS ref_catalog, d.refobjid::text AS ref_oid, d.deptype::text AS kind
FROM pg_depend d
WHERE d.deptype IN ('n', 'a', 'i', 'P', 'S') AND d.objid >= 16384 AND d.refobjid >= 16384
