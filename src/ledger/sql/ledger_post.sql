-- Posts one balanced entry in one round trip through ledger_post_set: idempotent on
-- p_idempotency_key (a key posted before returns that entry, replayed), accounts locked in id
-- order, and the no-negative CHECK refusing an overdraft inside the statement that changes the
-- balance.
CREATE OR REPLACE FUNCTION ledger_post(
  p_kind text, p_idempotency_key text, p_effective_at timestamptz,
  p_accounts uuid[], p_sides text[], p_amounts numeric[],
  p_description text DEFAULT NULL, p_metadata jsonb DEFAULT '{}', p_created_by text DEFAULT NULL,
  p_reverses uuid DEFAULT NULL,
  OUT entry_id uuid, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  n int := coalesce(array_length(p_accounts, 1), 0);
  v_existing uuid;
BEGIN
  replayed := false;
  IF n < 2 OR n <> coalesce(array_length(p_sides, 1), 0) OR n <> coalesce(array_length(p_amounts, 1), 0)
     OR EXISTS (SELECT 1 FROM unnest(p_amounts) a WHERE a IS NULL OR a <= 0 OR a <> round(a, 2)) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'an entry needs two or more postings with positive amounts of at most two decimals';
  END IF;
  entry_id := ledger_uuid_v7();
  SELECT r.o_existing INTO v_existing
    FROM ledger_post_set(
           ARRAY[ROW(entry_id, p_kind, p_idempotency_key, p_effective_at, p_description, coalesce(p_metadata, '{}'), p_created_by, p_reverses)::ledger_entry_in],
           ARRAY(SELECT ROW(entry_id, t.acc, t.side, t.amt)::ledger_posting_in FROM unnest(p_accounts, p_sides, p_amounts) AS t(acc, side, amt))) r
   WHERE r.o_kind = 'entry';
  IF v_existing IS NOT NULL THEN
    entry_id := v_existing;
    replayed := true;
  END IF;
END $$;
