-- The monthly partition of postings holding p_month's postings (UTC month, [first day, next
-- first day)), created if missing, with its statement guard; returns its name. Months are
-- created ahead (ledger_postings_months_ahead, daily job); a posting outside every month lands in
-- postings_default, and a month cannot be created while the default partition holds rows of it.
CREATE OR REPLACE FUNCTION ledger_postings_month(p_month date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_from date := date_trunc('month', p_month)::date;
  v_name text := 'postings_' || to_char(date_trunc('month', p_month), 'YYYY_MM');
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('monedero:ledger:postings-months'));
  IF to_regclass('ledger_months.' || v_name) IS NULL THEN
    EXECUTE format('CREATE TABLE ledger_months.%I PARTITION OF postings FOR VALUES FROM (%L) TO (%L)', v_name,
                   v_from::timestamp AT TIME ZONE 'UTC', (v_from + interval '1 month') AT TIME ZONE 'UTC');
    EXECUTE format('CREATE TRIGGER postings_partition_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ledger_months.%I
                    FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_partition_guard()', v_name);
  END IF;
  RETURN v_name;
END $$;
