-- The sealing horizon: every transaction of THIS database with an id below it has finished, so
-- entries with txid below it are final. Transactions of other databases of the cluster (which
-- hold back pg_snapshot_xmin) cannot write here and are ignored — when this role may read every
-- backend's xid (pg_read_all_stats / superuser); otherwise the cluster-wide xmin, which is also sound.
CREATE OR REPLACE FUNCTION audit_seal_horizon() RETURNS xid8 LANGUAGE sql VOLATILE AS $$
  WITH s AS (SELECT pg_current_snapshot() AS snap),
  mine AS (
    SELECT backend_xid::text::bigint AS x FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL
    UNION ALL
    SELECT transaction::text::bigint FROM pg_prepared_xacts WHERE database = current_database())
  SELECT CASE WHEN pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') THEN
           least(pg_snapshot_xmax(s.snap),
                 (SELECT min(x) FROM pg_snapshot_xip(s.snap) x WHERE (x::text::bigint % 4294967296) IN (SELECT mine.x FROM mine)))
         ELSE pg_snapshot_xmin(s.snap) END
    FROM s
$$;
