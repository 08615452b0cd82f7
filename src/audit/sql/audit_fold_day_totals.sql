-- Folds the postings of entries after the progress mark and below p_horizon (at most p_limit
-- entries) into the daily totals, then moves the mark. Returns the number of entries folded.
CREATE OR REPLACE FUNCTION audit_fold_day_totals(p_horizon xid8, p_limit integer DEFAULT 50000) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE prog audit_day_totals_progress; n integer; v_txid xid8; v_seq bigint;
BEGIN
  SELECT * INTO prog FROM audit_day_totals_progress WHERE id FOR UPDATE;
  CREATE TEMP TABLE IF NOT EXISTS audit_fold_batch (id uuid, txid xid8, seq bigint, effective_at timestamptz) ON COMMIT DROP;
  TRUNCATE audit_fold_batch;
  INSERT INTO audit_fold_batch
  SELECT e.id, e.txid, e.seq, e.effective_at FROM journal_entries e
   WHERE (e.txid, e.seq) > (prog.last_txid, prog.last_seq) AND e.txid < p_horizon
   ORDER BY e.txid, e.seq LIMIT p_limit;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n = 0 THEN RETURN 0; END IF;
  INSERT INTO audit_account_day_totals AS t (account_id, day, debits, credits, postings)
  SELECT p.account_id, (p.effective_at AT TIME ZONE 'UTC')::date,
         coalesce(sum(p.amount) FILTER (WHERE p.side = 'debit'), 0),
         coalesce(sum(p.amount) FILTER (WHERE p.side = 'credit'), 0), count(*)
    FROM audit_fold_batch b JOIN postings p ON p.entry_id = b.id AND p.effective_at = b.effective_at
   GROUP BY 1, 2
  ON CONFLICT (account_id, day) DO UPDATE
     SET debits = t.debits + excluded.debits, credits = t.credits + excluded.credits, postings = t.postings + excluded.postings;
  SELECT b.txid, b.seq INTO v_txid, v_seq FROM audit_fold_batch b ORDER BY b.txid DESC, b.seq DESC LIMIT 1;
  UPDATE audit_day_totals_progress SET last_txid = v_txid, last_seq = v_seq, updated_at = now() WHERE id;
  RETURN n;
END $$;
