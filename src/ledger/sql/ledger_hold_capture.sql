-- Captures part or all of a hold into p_destination; the rest is released. Refuses a hold
-- that is not authorized or has expired by p_now, even if the expiry job has not run yet.
-- The two accounts are locked (in id order) before the hold: accounts before holds, everywhere.
CREATE OR REPLACE FUNCTION ledger_hold_capture(
  p_hold uuid, p_amount numeric, p_destination uuid, p_now timestamptz,
  p_kind text DEFAULT 'capture', p_idempotency_key text DEFAULT NULL,
  p_metadata jsonb DEFAULT '{}', p_created_by text DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE h ledger_holds; amt numeric; v_entry uuid;
BEGIN
  PERFORM 1 FROM ledger_accounts a
    WHERE a.id IN (SELECT x.account_id FROM ledger_holds x WHERE x.id = p_hold UNION SELECT p_destination) AND NOT a.deferred_totals
    ORDER BY a.id FOR UPDATE;
  SELECT * INTO h FROM ledger_holds WHERE id = p_hold FOR UPDATE;
  IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = 'MN004', MESSAGE = 'no such hold'; END IF;
  IF h.status = 'captured' AND p_idempotency_key IS NOT NULL THEN
    SELECT e.id INTO v_entry FROM journal_entries e WHERE e.idempotency_key = p_idempotency_key AND e.id = h.capture_entry_id;
    IF FOUND THEN RETURN v_entry; END IF;
  END IF;
  IF h.status <> 'authorized' THEN
    RAISE EXCEPTION USING ERRCODE = 'MN004', MESSAGE = format('hold is %s', h.status);
  END IF;
  IF h.expires_at <= p_now THEN
    RAISE EXCEPTION USING ERRCODE = 'MN004', MESSAGE = 'hold has expired';
  END IF;
  amt := coalesce(p_amount, h.amount);
  IF amt > h.amount THEN
    RAISE EXCEPTION USING ERRCODE = 'MN005', MESSAGE = 'capture exceeds the held amount';
  END IF;
  IF p_idempotency_key IS NOT NULL AND EXISTS (SELECT 1 FROM journal_entries e WHERE e.idempotency_key = p_idempotency_key) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'idempotency key already used by another entry';
  END IF;
  v_entry := ledger_uuid_v7();
  IF EXISTS (SELECT 1 FROM ledger_post_set(
               ARRAY[ROW(v_entry, p_kind, p_idempotency_key, p_now, NULL, coalesce(p_metadata, '{}') || jsonb_build_object('holdId', h.id),
                         p_created_by, NULL)::ledger_entry_in],
               ARRAY[ROW(v_entry, h.account_id, 'debit', amt)::ledger_posting_in, ROW(v_entry, p_destination, 'credit', amt)::ledger_posting_in],
               ARRAY[ROW('release', h.id, h.account_id, NULL, NULL, NULL, NULL, 'captured', amt, v_entry, p_now)::ledger_hold_in]) r
             WHERE r.o_kind = 'entry') THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'idempotency key already used by another entry';
  END IF;
  RETURN v_entry;
END $$;
