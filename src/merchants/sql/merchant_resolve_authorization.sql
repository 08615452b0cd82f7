-- Capture (part or all) or void an authorization of this merchant. Returns its domain outcome
-- ('captured' | 'voided', or a refusal code: not_found, forbidden, hold_not_capturable,
-- hold_not_voidable, merchant_not_allowed, amount_exceeds_hold) with facts: the result, or why.
-- TypeScript chooses the HTTP status and body (src/merchants/redemption-outcomes.ts). The hold
-- is checked here so that a refusal is returned, not raised (and audited in redemption_attempts);
-- ledger_hold_capture checks again. Locks: the redemption row, the card's account and the
-- merchant's payable (id order), then the hold: accounts before holds, as every writer does.
CREATE OR REPLACE FUNCTION merchant_resolve_authorization(
  p_op text, p_merchant uuid, p_terminal uuid, p_redemption uuid, p_amount numeric, p_now timestamptz,
  OUT o_outcome text, OUT o_facts jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  r redemptions; h ledger_holds; m record; v_amount numeric; v_entry uuid;
BEGIN
  IF p_op NOT IN ('capture', 'void') THEN
    RAISE EXCEPTION USING ERRCODE = 'MN006', MESSAGE = 'unknown authorization operation';
  END IF;
  SELECT * INTO r FROM redemptions WHERE id = p_redemption FOR UPDATE;
  IF NOT FOUND THEN
    o_outcome := 'not_found';
  ELSIF r.merchant_id <> p_merchant THEN
    o_outcome := 'forbidden';
  ELSIF r.kind <> 'authorization' THEN
    o_outcome := 'hold_not_capturable'; o_facts := jsonb_build_object('kind', r.kind);
  ELSE
    SELECT x.status, x.payable_account_id INTO m FROM merchants x WHERE x.id = p_merchant;
    PERFORM 1 FROM ledger_accounts a
      WHERE a.id IN (SELECT x.account_id FROM ledger_holds x WHERE x.id = r.hold_id UNION SELECT m.payable_account_id)
        AND NOT a.deferred_totals
      ORDER BY a.id FOR UPDATE;
    SELECT * INTO h FROM ledger_holds WHERE id = r.hold_id FOR UPDATE;
    IF h.status <> 'authorized' THEN
      o_outcome := CASE p_op WHEN 'capture' THEN 'hold_not_capturable' ELSE 'hold_not_voidable' END;
      o_facts := jsonb_build_object('holdStatus', h.status);
    ELSIF p_op = 'capture' AND h.expires_at <= p_now THEN
      o_outcome := 'hold_not_capturable'; o_facts := jsonb_build_object('holdStatus', 'expired');
    ELSIF p_op = 'capture' AND m.status <> 'active' THEN
      o_outcome := 'merchant_not_allowed'; o_facts := jsonb_build_object('merchantStatus', m.status);
    ELSIF p_op = 'capture' AND coalesce(p_amount, h.amount) > h.amount THEN
      o_outcome := 'amount_exceeds_hold'; o_facts := jsonb_build_object('authorizedAmount', h.amount::text);
    ELSIF p_op = 'capture' THEN
      v_amount := coalesce(p_amount, h.amount);
      v_entry := ledger_hold_capture(h.id, v_amount, m.payable_account_id, p_now, 'redemption', 'redemption:' || r.id,
                                     jsonb_build_object('redemptionId', r.id, 'merchantId', p_merchant), 'merchant:' || p_merchant);
      UPDATE redemptions SET status = 'captured', captured_amount = v_amount, entry_id = v_entry, captured_at = p_now, resolved_at = p_now
       WHERE id = r.id RETURNING * INTO r;
    ELSE
      PERFORM ledger_hold_release(h.id, 'voided', p_now);
      UPDATE redemptions SET status = 'voided', resolved_at = p_now WHERE id = r.id RETURNING * INTO r;
    END IF;
  END IF;

  IF o_outcome IS NOT NULL THEN
    INSERT INTO redemption_attempts (merchant_id, terminal_id, operation, instrument_id, redemption_id, amount, code, detail, at)
    VALUES (p_merchant, p_terminal, p_op, CASE WHEN o_outcome NOT IN ('not_found', 'forbidden') THEN r.instrument_id END,
            p_redemption, p_amount, o_outcome, o_facts::text, p_now);
    RETURN;
  END IF;
  o_outcome := r.status;
  o_facts := jsonb_build_object('id', r.id, 'status', r.status, 'amount', coalesce(r.captured_amount, r.amount)::text,
                                'authorizedAmount', r.amount::text, 'last4', r.instrument_last4,
                                'reference', r.reference, 'createdAt', r.created_at, 'capturedAt', r.captured_at);
END $$;
