-- Captures part or all of a hold into p_destination; the rest is released. Refuses a hold
-- that is not authorized or has expired by p_now, even if the expiry job has not run yet.
CREATE OR REPLACE FUNCTION ledger_hold_capture(
  p_hold uuid, p_amount numeric, p_destination uuid, p_now timestamptz,
  p_kind text DEFAULT 'capture', p_idempotency_key text DEFAULT NULL,
  p_metadata jsonb DEFAULT '{}', p_created_by text DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE h ledger_holds; amt numeric; v_entry uuid; v_replayed boolean;
BEGIN
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
  UPDATE ledger_accounts SET pending_debits = pending_debits - h.amount WHERE id = h.account_id;
  SELECT r.entry_id, r.replayed INTO v_entry, v_replayed FROM ledger_post(
    p_kind, p_idempotency_key, p_now, ARRAY[h.account_id, p_destination], ARRAY['debit', 'credit'], ARRAY[amt, amt],
    NULL, coalesce(p_metadata, '{}') || jsonb_build_object('holdId', h.id), p_created_by) r;
  IF v_replayed THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'idempotency key already used by another entry';
  END IF;
  UPDATE ledger_holds SET status = 'captured', captured_amount = amt, capture_entry_id = v_entry, resolved_at = p_now
   WHERE id = h.id;
  RETURN v_entry;
END $$;
