-- Two-phase transfers. A hold reserves money on a credit-normal account (it counts against
-- the available balance) until captured, voided or expired. Idempotent on p_idempotency_key.
CREATE OR REPLACE FUNCTION ledger_hold_authorize(
  p_account uuid, p_amount numeric, p_expires_at timestamptz, p_now timestamptz,
  p_idempotency_key text DEFAULT NULL, p_metadata jsonb DEFAULT '{}',
  OUT hold_id uuid, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE v_existing uuid;
BEGIN
  replayed := false;
  IF p_idempotency_key IS NOT NULL THEN
    SELECT h.id INTO hold_id FROM ledger_holds h WHERE h.idempotency_key = p_idempotency_key;
    IF FOUND THEN replayed := true; RETURN; END IF;
  END IF;
  hold_id := gen_random_uuid();
  SELECT r.o_existing INTO v_existing
    FROM ledger_post_set('{}', '{}', ARRAY[ROW('authorize', hold_id, p_account, p_amount, p_expires_at, p_idempotency_key,
                                                coalesce(p_metadata, '{}'), NULL, NULL, NULL, p_now)::ledger_hold_in]) r
   WHERE r.o_kind = 'hold';
  IF v_existing IS NOT NULL THEN  -- a concurrent request with the same key committed first
    hold_id := v_existing;
    replayed := true;
  END IF;
END $$;
