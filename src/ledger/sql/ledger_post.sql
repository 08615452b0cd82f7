-- Posts one balanced entry in one round trip: idempotent on p_idempotency_key, locks the
-- touched accounts in id order, and lets the no-negative CHECK refuse an overdraft inside
-- the same statement that changes the balance.
CREATE OR REPLACE FUNCTION ledger_post(
  p_kind text, p_idempotency_key text, p_effective_at timestamptz,
  p_accounts uuid[], p_sides text[], p_amounts numeric[],
  p_description text DEFAULT NULL, p_metadata jsonb DEFAULT '{}', p_created_by text DEFAULT NULL,
  p_reverses uuid DEFAULT NULL,
  OUT entry_id uuid, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
  n int := coalesce(array_length(p_accounts, 1), 0);
  v_found int; v_currencies int; v_deferred int;
BEGIN
  replayed := false;
  IF n < 2 OR n <> coalesce(array_length(p_sides, 1), 0) OR n <> coalesce(array_length(p_amounts, 1), 0)
     OR EXISTS (SELECT 1 FROM unnest(p_amounts) a WHERE a IS NULL OR a <= 0 OR a <> round(a, 2)) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'an entry needs two or more postings with positive amounts of at most two decimals';
  END IF;

  INSERT INTO journal_entries (kind, idempotency_key, effective_at, description, metadata, created_by, reverses_entry_id)
  VALUES (p_kind, p_idempotency_key, p_effective_at, p_description, coalesce(p_metadata, '{}'), p_created_by, p_reverses)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING id INTO entry_id;
  IF entry_id IS NULL THEN  -- this key was posted before (or by a concurrent request that committed first)
    SELECT e.id INTO entry_id FROM journal_entries e WHERE e.idempotency_key = p_idempotency_key;
    replayed := true;
    RETURN;
  END IF;

  -- Lock the guarded accounts in id order (no deadlocks between postings); hot deferred
  -- accounts are never locked. Then check every account exists and all share one currency.
  PERFORM 1 FROM ledger_accounts l WHERE l.id = ANY (p_accounts) AND NOT l.deferred_totals ORDER BY l.id FOR UPDATE;
  SELECT count(*), count(DISTINCT a.currency), count(*) FILTER (WHERE a.deferred_totals)
    INTO v_found, v_currencies, v_deferred
    FROM ledger_accounts a WHERE a.id = ANY (p_accounts);
  IF v_found <> (SELECT count(DISTINCT x) FROM unnest(p_accounts) x) OR v_currencies <> 1 THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'unknown account, or accounts of different currencies';
  END IF;

  WITH d AS (
    SELECT acc, coalesce(sum(amt) FILTER (WHERE side = 'debit'), 0) AS debits,
                coalesce(sum(amt) FILTER (WHERE side = 'credit'), 0) AS credits
      FROM unnest(p_accounts, p_sides, p_amounts) AS t(acc, side, amt) GROUP BY acc)
  UPDATE ledger_accounts a
     SET posted_debits = a.posted_debits + d.debits, posted_credits = a.posted_credits + d.credits
    FROM d WHERE a.id = d.acc AND NOT a.deferred_totals;

  IF v_deferred > 0 THEN
    INSERT INTO ledger_account_deltas (account_id, debits, credits)
    SELECT t.acc, CASE t.side WHEN 'debit' THEN t.amt ELSE 0 END, CASE t.side WHEN 'credit' THEN t.amt ELSE 0 END
      FROM unnest(p_accounts, p_sides, p_amounts) AS t(acc, side, amt)
      JOIN ledger_accounts a ON a.id = t.acc AND a.deferred_totals;
  END IF;

  INSERT INTO postings (entry_id, account_id, side, amount, effective_at)
  SELECT entry_id, t.acc, t.side, t.amt, p_effective_at
    FROM unnest(p_accounts, p_sides, p_amounts) AS t(acc, side, amt);
END $$;
