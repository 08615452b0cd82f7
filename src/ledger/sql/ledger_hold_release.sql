-- Voids (or expires) an authorized hold; returns false if it was already resolved.
CREATE OR REPLACE FUNCTION ledger_hold_release(p_hold uuid, p_status text, p_now timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE h ledger_holds;
BEGIN
  IF p_status NOT IN ('voided', 'expired') THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a hold is released as voided or expired';
  END IF;
  SELECT * INTO h FROM ledger_holds WHERE id = p_hold FOR UPDATE;
  IF NOT FOUND OR h.status <> 'authorized' THEN RETURN false; END IF;
  UPDATE ledger_accounts SET pending_debits = pending_debits - h.amount WHERE id = h.account_id;
  UPDATE ledger_holds SET status = p_status, resolved_at = p_now WHERE id = h.id;
  RETURN true;
END $$;
