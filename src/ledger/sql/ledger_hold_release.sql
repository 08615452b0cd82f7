-- Voids (or expires) an authorized hold; returns false if it was already resolved. Its account
-- is locked before the hold (accounts before holds, as every writer does).
CREATE OR REPLACE FUNCTION ledger_hold_release(p_hold uuid, p_status text, p_now timestamptz)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE h ledger_holds;
BEGIN
  IF p_status NOT IN ('voided', 'expired') THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a hold is released as voided or expired';
  END IF;
  PERFORM 1 FROM ledger_accounts a JOIN ledger_holds x ON x.account_id = a.id WHERE x.id = p_hold FOR UPDATE OF a;
  SELECT * INTO h FROM ledger_holds WHERE id = p_hold FOR UPDATE;
  IF NOT FOUND OR h.status <> 'authorized' THEN RETURN false; END IF;
  PERFORM ledger_post_set('{}', '{}', ARRAY[ROW('release', h.id, h.account_id, NULL, NULL, NULL, NULL, p_status, NULL, NULL, p_now)::ledger_hold_in]);
  RETURN true;
END $$;
