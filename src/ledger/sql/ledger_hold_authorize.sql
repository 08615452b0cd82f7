-- Two-phase transfers. A hold reserves money on a credit-normal account (it counts against
-- the available balance) until captured, voided or expired.
CREATE OR REPLACE FUNCTION ledger_hold_authorize(
  p_account uuid, p_amount numeric, p_expires_at timestamptz, p_now timestamptz,
  p_idempotency_key text DEFAULT NULL, p_metadata jsonb DEFAULT '{}',
  OUT hold_id uuid, OUT replayed boolean)
LANGUAGE plpgsql AS $$
BEGIN
  replayed := false;
  IF p_idempotency_key IS NOT NULL THEN
    SELECT h.id INTO hold_id FROM ledger_holds h WHERE h.idempotency_key = p_idempotency_key;
    IF FOUND THEN replayed := true; RETURN; END IF;
  END IF;
  IF p_amount IS NULL OR p_amount <= 0 OR p_amount <> round(p_amount, 2) THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'hold amount must be positive with at most two decimals';
  END IF;
  IF p_expires_at <= p_now THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'a hold must expire in the future';
  END IF;
  UPDATE ledger_accounts SET pending_debits = pending_debits + p_amount
   WHERE id = p_account AND normal_side = 'credit' AND NOT deferred_totals;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'holds are placed on existing credit-normal, non-deferred accounts';
  END IF;
  INSERT INTO ledger_holds (account_id, amount, expires_at, idempotency_key, metadata, created_at)
  VALUES (p_account, p_amount, p_expires_at, p_idempotency_key, coalesce(p_metadata, '{}'), p_now)
  RETURNING id INTO hold_id;
END $$;
