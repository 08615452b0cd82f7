-- Makes sure the partitions of postings exist from the current UTC month to p_months months
-- ahead (run by the migration and daily by the ledger worker); returns how many months it covered.
CREATE OR REPLACE FUNCTION ledger_postings_months_ahead(p_months integer DEFAULT 3) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE i integer;
BEGIN
  FOR i IN 0 .. p_months LOOP
    PERFORM ledger_postings_month((date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date);
  END LOOP;
  RETURN p_months + 1;
END $$;
