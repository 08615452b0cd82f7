-- The staged way into the ledger's primitive (ledger_post_set): the caller calls ledger_stage(),
-- inserts the journal entries, postings and hold changes it wants into the session's staging
-- tables (handy from set-based SQL that builds them in several statements), and calls this, which
-- posts them with ledger_post_set and empties the staging tables. Same checks, same result rows.
CREATE OR REPLACE FUNCTION ledger_post_staged()
RETURNS TABLE (o_kind text, o_staged uuid, o_existing uuid)
LANGUAGE plpgsql AS $$
DECLARE
  v_entries ledger_entry_in[];
  v_postings ledger_posting_in[];
  v_holds ledger_hold_in[];
BEGIN
  v_entries := ARRAY(SELECT ROW(e.id, e.kind, e.idempotency_key, e.effective_at, e.description, e.metadata, e.created_by, e.reverses_entry_id)::ledger_entry_in
                       FROM ledger_staged_entries e);
  v_postings := ARRAY(SELECT ROW(p.entry_id, p.account_id, p.side, p.amount)::ledger_posting_in FROM ledger_staged_postings p);
  v_holds := ARRAY(SELECT ROW(h.op, h.hold_id, h.account_id, h.amount, h.expires_at, h.idempotency_key, h.metadata, h.status,
                              h.captured_amount, h.capture_entry_id, h.at)::ledger_hold_in
                     FROM ledger_staged_holds h);
  -- Emptied before posting, so the primitive's own writes never meet a half-staged set.
  IF cardinality(v_entries) > 1000 THEN
    TRUNCATE ledger_staged_postings, ledger_staged_holds, ledger_staged_entries;
  ELSE
    DELETE FROM ledger_staged_postings;
    DELETE FROM ledger_staged_holds;
    DELETE FROM ledger_staged_entries;
  END IF;
  RETURN QUERY SELECT * FROM ledger_post_set(v_entries, v_postings, v_holds);
END $$;
