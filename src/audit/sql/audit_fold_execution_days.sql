-- Folds the budget-execution contributions (audit_execution_rows) of the entries after the
-- progress mark and below p_horizon (at most p_limit entries, in (txid, seq) order, as
-- audit_fold_day_totals does) into audit_execution_days, then moves the mark. Entries at or after
-- the mark are the tail the report adds itself. Returns the number of entries folded.
CREATE OR REPLACE FUNCTION audit_fold_execution_days(p_horizon xid8, p_cycle_kinds text[], p_limit integer DEFAULT 50000) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE prog audit_execution_progress; n integer; v_txid xid8; v_seq bigint;
BEGIN
  SELECT * INTO prog FROM audit_execution_progress WHERE id FOR UPDATE;
  CREATE TEMP TABLE IF NOT EXISTS audit_execution_batch (id uuid, txid xid8, seq bigint) ON COMMIT DROP;
  TRUNCATE audit_execution_batch;
  INSERT INTO audit_execution_batch
  SELECT e.id, e.txid, e.seq FROM journal_entries e
   WHERE (e.txid, e.seq) > (prog.last_txid, prog.last_seq) AND e.txid < p_horizon
   ORDER BY e.txid, e.seq LIMIT p_limit;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n = 0 THEN RETURN 0; END IF;
  INSERT INTO audit_execution_days AS t (program_id, day, category, account_id, kind, component, zone, net, postings)
  SELECT * FROM audit_execution_rows(ARRAY(SELECT b.id FROM audit_execution_batch b), p_cycle_kinds)
  ON CONFLICT (program_id, day, category, account_id, kind, component, zone) DO UPDATE
     SET net = t.net + excluded.net, postings = t.postings + excluded.postings;
  SELECT b.txid, b.seq INTO v_txid, v_seq FROM audit_execution_batch b ORDER BY b.txid DESC, b.seq DESC LIMIT 1;
  UPDATE audit_execution_progress SET last_txid = v_txid, last_seq = v_seq, updated_at = now() WHERE id;
  RETURN n;
END $$;
